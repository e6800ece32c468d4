import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { TokenAccessLog } from '../src/http/access-log.ts'
import { createLogger } from '../src/logger.ts'

function capture(level = 'info') {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean))
      done()
    },
  })
  return { lines, log: new TokenAccessLog(createLogger(level, sink)) }
}

const entry = {
  id: 'req-1.a_b',
  route: { method: 'POST', path: '/amsu-analysis/v2/token "quoted"\\', endpoint: 'refreshable' },
  remoteAddress: '::ffff:127.0.0.1',
  statusCode: 401,
  outcome: 'invalid_client',
  responseTime: 1.2345,
}

test('the hand-serialized access line is the line pino writes for the same fields', async () => {
  const { lines, log } = capture()
  log.write(entry)
  log.flush()
  log.viaPino(entry)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(lines.length, 2)
  const [fast, pino] = lines.map((line) => line.replace(/"time":\d+/, '"time":0'))
  assert.equal(fast, pino)
  assert.equal(JSON.parse(fast!).req.path, entry.route.path)
})

test('the access line follows the log level', async () => {
  const { lines, log } = capture('warn')
  log.write(entry)
  log.flush()
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(lines, [])
})

test('access lines go out 16 KiB at a time, or 200 ms after the first that waits', async () => {
  const { lines, log } = capture()
  log.write(entry)
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(lines.length, 0, 'one line waits for company')
  await new Promise((resolve) => setTimeout(resolve, 250))
  assert.equal(lines.length, 1, 'and goes out by itself within 200 ms')
  const perBatch = Math.ceil(16384 / JSON.stringify(entry).length)
  for (let i = 0; i < perBatch * 3; i++) log.write(entry)
  await new Promise((resolve) => setImmediate(resolve))
  assert.ok(lines.length > 1, 'full batches go out at once')
  log.flush()
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(lines.length, 1 + perBatch * 3)
})
