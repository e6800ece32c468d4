import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ManualClock, MemoryStore, nowSeconds } from '../src/index.ts'
import { storeContract } from '../src/storage/contract.ts'

storeContract('memory', async () => ({ store: new MemoryStore(), cleanup: async () => {} }))

test('a single-use key is refused until its expiry, on the clock the store is given, in seconds', async () => {
  const clock = new ManualClock()
  const store = new MemoryStore({ nowSeconds: () => nowSeconds(clock) })
  const expiresAt = nowSeconds(clock) + 60
  assert.equal(await store.consumeOnce('k', expiresAt), true)
  clock.advance(59_000)
  assert.equal(await store.consumeOnce('k', expiresAt + 59), false, 'still live a second before')
  clock.advance(1_000)
  assert.equal(await store.consumeOnce('k', expiresAt + 60), true, 'free again at its expiry')
})
