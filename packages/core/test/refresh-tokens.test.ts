import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ManualClock, MemoryStore } from '../src/index.ts'
import { hashRefreshToken, RefreshTokenService } from '../src/tokens/refresh-tokens.ts'

const grant = { clientId: 'client-a', subject: 'client-a', scopes: ['prices.read'] }

function services(ownerCacheSize?: number) {
  const clock = new ManualClock()
  const store = new MemoryStore({ now: () => clock.now() })
  const options = { store, clock, ttl: 3600, ...(ownerCacheSize === undefined ? {} : { ownerCacheSize }) }
  return { store, a: new RefreshTokenService(options), b: new RefreshTokenService(options) }
}

test('a token issued by another instance is found in the store and rotates', async () => {
  const { a, b } = services()
  const token = await a.issue(grant)
  assert.equal(await b.ownerOf(token), 'client-a')
  const rotated = await b.rotate(token, 'client-a')
  assert.ok(rotated)
  assert.equal(await a.ownerOf(rotated.next), 'client-a')
})

test('a spent token presented again is refused and revokes its family, on the instance that issued it', async () => {
  const { a } = services()
  const first = await a.issue(grant)
  const second = (await a.rotate(first, 'client-a'))!.next
  assert.equal(
    await a.ownerOf(first),
    'client-a',
    'the owner of a spent token is still known (from the store)',
  )
  assert.equal(await a.rotate(first, 'client-a'), undefined)
  assert.equal(await a.rotate(second, 'client-a'), undefined, 'the family is revoked')
})

test('the remembered owner decides nothing: a token revoked in the store is refused', async () => {
  const { store, a } = services()
  const token = await a.issue(grant)
  const record = await store.getRefreshToken(hashRefreshToken(token))
  await store.revokeRefreshFamily(record!.familyId)
  assert.equal(await a.ownerOf(token), 'client-a')
  assert.equal(await a.rotate(token, 'client-a'), undefined)
  assert.equal(await a.rotate(token, 'client-b'), undefined)
})

test('the owner cache is bounded; evicted owners come from the store', async () => {
  const { store, a } = services(10)
  const tokens = []
  for (let i = 0; i < 25; i++) tokens.push(await a.issue(grant))
  let reads = 0
  const read = store.getRefreshToken.bind(store)
  store.getRefreshToken = async (hash) => {
    reads++
    return read(hash)
  }
  for (const token of tokens) assert.equal(await a.ownerOf(token), 'client-a')
  assert.ok(reads >= 15, `expected the evicted owners to be read from the store, got ${reads} reads`)
  assert.ok(reads < 25, `expected the newest owners to be remembered, got ${reads} reads`)
})
