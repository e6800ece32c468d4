import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { signatureSigner } from '../dialects.ts'
import { detectDriver, runPlan } from '../load.ts'
import { verdictCell } from '../table.ts'

const clients = Array.from({ length: 4 }, (_, i) => ({
  client_id: `client-${i}`,
  client_secret: `secret-${i}`,
}))

test('signature bodies are distinct requests, one time for each round of the clients, inside the window', () => {
  const signer = signatureSigner(clients)
  signer.rebase()
  const bodies = Array.from({ length: 10_000 }, () => JSON.parse(signer.body()))
  const keys = new Set(bodies.map((b) => `${b.clientId}:${b.time}`))
  assert.equal(keys.size, bodies.length)
  // Four clients in turn share each millisecond: 10,000 bodies take 2,500 of them.
  const times = new Set(bodies.map((b) => b.time))
  assert.equal(times.size, 2_500)
  assert.deepEqual(
    bodies.slice(0, 5).map((b) => b.clientId),
    ['client-0', 'client-1', 'client-2', 'client-3', 'client-0'],
  )
  const now = Date.now()
  for (const time of [bodies[0].time, bodies.at(-1).time]) assert.ok(Math.abs(time - now) < 300_000)
})

test('a re-based signer never goes back to a time it has used', () => {
  const signer = signatureSigner(clients)
  signer.rebase()
  const last = JSON.parse(Array.from({ length: 9 }, () => signer.body()).at(-1)!)
  signer.rebase()
  const next = JSON.parse(signer.body())
  assert.ok(next.time > last.time || (next.time === last.time && next.clientId !== last.clientId))
})

test('a verdict reads the median, and runs with errors get none', () => {
  assert.equal(verdictCell([0.88, 0.91, 0.93], 0.9, false), 'met')
  assert.equal(verdictCell([0.88, 0.89, 0.93], 0.9, false), 'MISSED')
  // Printed as 0.90× and 0.95×, these medians would read as met: the verdict shows three digits.
  assert.equal(verdictCell([0.8962, 0.8971, 0.93], 0.9, false), 'MISSED (0.897×)')
  assert.equal(verdictCell([0.9499], 0.95, false), 'MISSED (0.949×)')
  // A rate-limited server answers nothing in some rounds and anything in others.
  assert.equal(verdictCell([0, 1.59, 1.04], 0.9, true), 'errors')
  assert.equal(verdictCell([], 0.9, false), '—')
})

test('times lent to wrk are never used again, by wrk or by the signer', () => {
  const signer = signatureSigner(clients)
  signer.rebase()
  const before = JSON.parse(signer.body())
  const lent = signer.lend()
  assert.ok(lent.start > before.time, 'a lent run starts a round of its own')
  // 9 requests of 4 clients use 3 times: start, start + 1 and start + 2.
  lent.spent(9)
  const after = JSON.parse(signer.body())
  assert.equal(after.time, lent.start + 3)
  assert.equal(after.clientId, 'client-0')
})

test('wrk signs each body as it sends it: every one distinct, with the right time and MD5', {
  skip:
    detectDriver() !== 'wrk' && 'wrk is not installed (apt-get install -y wrk): the Lua signer is not tested',
}, async () => {
  const bodies: string[] = []
  const answer = '{"code":200,"data":{"accessToken":"a.b.c","expireInSeconds":60},"success":true,"msg":null}'
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      bodies.push(body)
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-wrk-'))
  let spent = 0
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sign`
    const signing = clients.slice(0, 3).map((c) => ({ clientId: c.client_id, secret: c.client_secret }))
    const start = 1_800_000_000_000
    const result = await runPlan(
      'wrk',
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        verifyBody: () => true,
        wrk: {
          kind: 'signed',
          valid: '"accessToken"',
          clients: signing,
          start,
          spent: (count) => {
            spent = count
          },
        },
      },
      4,
      1,
      workDir,
    )
    assert.equal(result.errors, 0)
    assert.ok(bodies.length > 100, `only ${bodies.length} requests in a second`)
    assert.ok(spent >= bodies.length, 'the run reports at least the bodies it made')
    const parsed = bodies.map((b) => JSON.parse(b) as { clientId: string; time: number; signature: string })
    // One thread makes request n for client n mod 3 at start + floor(n / 3). None repeats, none lies past
    // what the run reported spent, and the few missing were made but not answered (in flight at the end,
    // or the one wrk makes to check the script).
    const ids = signing.map((c) => c.clientId)
    const sequence = parsed.map((b) => (b.time - start) * 3 + ids.indexOf(b.clientId))
    assert.equal(new Set(sequence).size, sequence.length, 'no body is sent twice')
    assert.ok(Math.max(...sequence) < spent)
    assert.equal(Math.min(...sequence), 1, 'wrk made body 0 to check the script, and sent it to no one')
    assert.ok(spent - sequence.length <= 4 + 1, `${spent - sequence.length} made but not sent`)
    for (const body of parsed) {
      const client = signing[ids.indexOf(body.clientId)]!
      const md5 = createHash('md5').update(`${client.clientId}${body.time}${client.secret}`).digest('hex')
      assert.equal(body.signature, md5.toUpperCase())
    }
  } finally {
    server.close()
    rmSync(workDir, { recursive: true, force: true })
  }
})
