import assert from 'node:assert/strict'
import { test } from 'node:test'
import { againstFirst, perRequest, type Reading } from '../budget.ts'
import { countedRequests } from '../window.ts'

test('countedRequests sums the token request counter over every series and nothing else', () => {
  const metrics = [
    '# HELP gatehouse_token_requests_total Token requests by endpoint, grant type and outcome.',
    '# TYPE gatehouse_token_requests_total counter',
    'gatehouse_token_requests_total{endpoint="standard",grant_type="client_credentials",outcome="issued"} 1200',
    'gatehouse_token_requests_total{endpoint="signature",grant_type="client_credentials",outcome="invalid_client"} 3',
    'gatehouse_token_request_duration_seconds_count{endpoint="standard"} 999',
    'gatehouse_process_cpu_seconds_total 12.5',
  ].join('\n')
  assert.equal(countedRequests(metrics), 1203)
})

test('perRequest gives each thread, the driver and idle in µs per request over the window', () => {
  const before: Reading = { requests: 1000, threads: new Map([['MainThread', 1.0]]), driver: 0.5, idle: 10 }
  const after: Reading = {
    requests: 3000,
    threads: new Map([
      ['MainThread', 1.05],
      ['gatehouse-signi', 0.06],
    ]),
    driver: 0.52,
    idle: 10.01,
  }
  const us = perRequest(before, after)
  // 0.05 s over 2,000 requests is 25 µs each; a thread born in the window counts from zero.
  assert.ok(Math.abs(us.get('MainThread')! - 25) < 1e-9)
  assert.ok(Math.abs(us.get('gatehouse-signi')! - 30) < 1e-9)
  assert.ok(Math.abs(us.get('driver')! - 10) < 1e-9)
  assert.ok(Math.abs(us.get('idle')! - 5) < 1e-9)
})

test('perRequest refuses a window in which the server counted nothing', () => {
  const reading: Reading = { requests: 5, threads: new Map(), driver: 0, idle: 0 }
  assert.throws(() => perRequest(reading, reading), /no requests/)
})

test('againstFirst compares each row with the first as measured and as its work alone allows', () => {
  const [first, second] = againstFirst([
    { sum: 100, idle: 17, rps: 20_000 },
    { sum: 111, idle: 20, rps: 18_000 },
  ])
  assert.equal(first!.measured, 1)
  assert.equal(first!.workOnly, 1)
  assert.equal(second!.measured, 0.9)
  // 83 µs of work against 91: without idle the row could reach 0.91 ×, and no more.
  assert.ok(Math.abs(second!.workOnly - 83 / 91) < 1e-12)
  assert.deepEqual(againstFirst([]), [])
})
