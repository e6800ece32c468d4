import assert from 'node:assert/strict'
import { test } from 'node:test'
import { signatureSigner } from '../dialects.ts'
import { checkBodiesLasted } from '../load.ts'
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
  // A rate-limited server answers nothing in some rounds and anything in others.
  assert.equal(verdictCell([0, 1.59, 1.04], 0.9, true), 'errors')
  assert.equal(verdictCell([], 0.9, false), '—')
})

test('a run of single-use bodies fails when it outran them; one of a repeated body does not', () => {
  const once = (distinct: boolean) => ({
    kind: 'once' as const,
    valid: '',
    bodies: () => [],
    distinct,
  })
  // 2 s runs get 2 × 50,000 + 1,000 bodies.
  assert.doesNotThrow(() => checkBodiesLasted(once(true), 101_000, 2))
  assert.throws(() => checkBodiesLasted(once(true), 101_001, 2), /WRK_BODIES_PER_SEC/)
  assert.doesNotThrow(() => checkBodiesLasted(once(false), 500_000, 2))
})
