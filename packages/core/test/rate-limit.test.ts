import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryFailureLimiter } from '../src/rate-limit.ts'

function clock() {
  let now = 1_000_000
  return { now: () => now, advance: (ms: number) => (now += ms) }
}

test('a key is blocked once its failures in the minute reach the limit, and free when the minute ends', () => {
  const time = clock()
  const limiter = new MemoryFailureLimiter(time.now)
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.blockedFor('client:a', 3), 0)
    limiter.recordFailure('client:a')
  }
  assert.equal(limiter.blockedFor('client:a', 3), 60)
  assert.equal(limiter.blockedFor('client:b', 3), 0, 'other keys are counted apart')
  time.advance(45_000)
  assert.equal(limiter.blockedFor('client:a', 3), 15)
  time.advance(15_000)
  assert.equal(limiter.blockedFor('client:a', 3), 0)
  limiter.recordFailure('client:a')
  assert.equal(limiter.blockedFor('client:a', 2), 0, 'a new minute counts from one')
})

test('windows that have run out are dropped as new failures come', () => {
  const time = clock()
  const limiter = new MemoryFailureLimiter(time.now)
  for (let i = 0; i < 500; i++) limiter.recordFailure(`address:${i}`)
  time.advance(30_000)
  limiter.recordFailure('address:0')
  limiter.recordFailure('address:late')
  time.advance(30_000)
  limiter.recordFailure('address:next')
  // The 499 windows of the first minute are gone; address:0 was counted in it, not anew.
  assert.equal(limiter.size, 2)
})

test('keys that callers choose cannot grow it past its capacity; the newest windows stay', () => {
  const time = clock()
  const limiter = new MemoryFailureLimiter(time.now, 1000)
  for (let i = 0; i < 5000; i++) limiter.recordFailure(`client:${i}`)
  assert.equal(limiter.size, 1000)
  limiter.recordFailure('client:4999')
  assert.equal(limiter.blockedFor('client:4999', 2), 60)
  assert.equal(limiter.blockedFor('client:0', 1), 0, 'the oldest went first')
})
