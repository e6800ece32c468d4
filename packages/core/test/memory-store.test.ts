import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ManualClock, MemoryStore, nowSeconds } from '../src/index.ts'
import { storeContract } from '../src/storage/contract.ts'

storeContract('memory', async () => ({ store: new MemoryStore(), cleanup: async () => {} }))

test('a single-use key is refused until its expiry, on the clock the store is given, in seconds', async () => {
  const clock = new ManualClock()
  const store = new MemoryStore({ clock })
  const expiresAt = nowSeconds(clock) + 60
  assert.equal(await store.consumeOnce('k', expiresAt), true)
  clock.advance(59_000)
  assert.equal(await store.consumeOnce('k', expiresAt + 59), false, 'still live a second before')
  clock.advance(1_000)
  assert.equal(await store.consumeOnce('k', expiresAt + 60), true, 'free again at its expiry')
})

test('sweeping expired single-use keys keeps the live ones refused', async () => {
  const clock = new ManualClock()
  const store = new MemoryStore({ clock })
  const start = nowSeconds(clock)
  assert.equal(await store.consumeOnce('live', start + 1000), true)
  // Enough keys to pass the sweep threshold more than once, the first of them soon expired.
  for (let i = 0; i < 25_000; i++) assert.equal(await store.consumeOnce(`early-${i}`, start + 10), true)
  clock.advance(20_000)
  for (let i = 0; i < 25_000; i++) assert.equal(await store.consumeOnce(`late-${i}`, start + 1000), true)
  assert.equal(await store.consumeOnce('live', start + 1000), false)
  assert.equal(await store.consumeOnce('late-0', start + 1000), false)
  assert.equal(await store.consumeOnce('early-0', start + 1000), true, 'an expired key is free again')
  await store.revokeAccessToken('jti-live', start + 1000)
  for (let i = 0; i < 25_000; i++) await store.revokeAccessToken(`jti-${i}`, start + 30)
  assert.equal(await store.isAccessTokenRevoked('jti-live', nowSeconds(clock)), true)
})
