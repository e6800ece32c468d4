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
  method: 'POST',
  path: '/amsu-analysis/v2/token "quoted"\\',
  remoteAddress: '::ffff:127.0.0.1',
  statusCode: 401,
  endpoint: 'refreshable',
  outcome: 'invalid_client',
  responseTime: 1.2345,
}

test('the hand-serialized access line is the line pino writes for the same fields', async () => {
  const { lines, log } = capture()
  log.write(entry)
  log.viaPino(entry)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(lines.length, 2)
  const [fast, pino] = lines.map((line) => line.replace(/"time":\d+/, '"time":0'))
  assert.equal(fast, pino)
  assert.equal(JSON.parse(fast!).req.path, entry.path)
})

test('the access line follows the log level', async () => {
  const { lines, log } = capture('warn')
  log.write(entry)
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(lines, [])
})
