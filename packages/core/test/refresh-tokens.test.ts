import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ManualClock, MemoryStore } from '../src/index.ts'
import {
  grantDenyKey,
  hashRefreshSecret,
  parseRefreshToken,
  RefreshTokenService,
  refreshGrantId,
  TRIM_EVERY,
} from '../src/tokens/refresh-tokens.ts'

const grant = { clientId: 'client-a', subject: 'client-a', scopes: ['prices.read'] }

function services(ownerCacheSize?: number, familiesPerClient = 1000) {
  const clock = new ManualClock()
  const store = new MemoryStore({ clock })
  const options = {
    store,
    clock,
    ttl: 3600,
    accessTokenMaxTtl: 600,
    familiesPerClient,
    ...(ownerCacheSize === undefined ? {} : { ownerCacheSize }),
  }
  return { store, clock, a: new RefreshTokenService(options), b: new RefreshTokenService(options) }
}

test('a token is its family id and a 256-bit secret, of which only the hash is stored', async () => {
  const { store, a } = services()
  const token = (await a.issue(grant)).token
  assert.match(token, /^[\w-]{65}$/)
  const parts = parseRefreshToken(token)!
  assert.equal(parts.familyId, token.slice(0, 22))
  assert.equal(Buffer.from(token.slice(22), 'base64url').length, 32)
  const family = await store.getRefreshFamily(parts.familyId)
  assert.equal(family?.secretHash, hashRefreshSecret(token.slice(22)))
  assert.ok(!JSON.stringify(family).includes(token.slice(22)), 'the secret itself is not stored')
})

test('a rotation keeps the family and replaces its secret: one record however often it is used', async () => {
  const { store, a } = services()
  let token = (await a.issue(grant)).token
  const familyId = parseRefreshToken(token)!.familyId
  for (let i = 0; i < 5; i++) {
    const rotated = await a.rotate(token, 'client-a')
    assert.ok(rotated)
    assert.equal(parseRefreshToken(rotated.next)!.familyId, familyId)
    assert.notEqual(rotated.next, token)
    token = rotated.next
  }
  assert.equal((await store.getRefreshFamily(familyId))?.secretHash, parseRefreshToken(token)!.secretHash)
})

test('a token issued by another instance is found in the store and rotates', async () => {
  const { a, b } = services()
  const token = (await a.issue(grant)).token
  assert.equal(await b.ownerOf(token), 'client-a')
  const rotated = await b.rotate(token, 'client-a')
  assert.ok(rotated)
  assert.equal(await a.ownerOf(rotated.next), 'client-a')
})

test('a spent token presented again is refused and revokes its family, on the instance that issued it', async () => {
  const { a } = services()
  const first = (await a.issue(grant)).token
  const second = (await a.rotate(first, 'client-a'))!.next
  assert.equal(await a.ownerOf(first), 'client-a', 'the owner of a spent token is still known')
  assert.equal(await a.rotate(first, 'client-a'), undefined)
  assert.equal(await a.rotate(second, 'client-a'), undefined, 'the family is revoked')
})

test("a reuse denies the family's access tokens under its sid, for as long as one may live", async () => {
  const { store, clock, a } = services()
  const first = (await a.issue(grant)).token
  const familyId = parseRefreshToken(first)!.familyId
  const rotated = (await a.rotate(first, 'client-a'))!
  assert.equal(rotated.grant, refreshGrantId(familyId))
  assert.equal(rotated.grant, refreshGrantId(parseRefreshToken(first)!.familyId))
  const denied = () => store.isAccessTokenRevoked(grantDenyKey(rotated.grant), Math.floor(clock.now() / 1000))
  assert.equal(await denied(), false)
  assert.equal(await a.rotate(first, 'client-a'), undefined)
  assert.equal(await denied(), true)
  clock.advance(600 * 1000)
  assert.equal(await denied(), false, 'past accessTokenMaxTtl no token of the family is alive')
})

test('the remembered owner decides nothing: a family revoked in the store is refused', async () => {
  const { store, a } = services()
  const token = (await a.issue(grant)).token
  await store.revokeRefreshFamily(parseRefreshToken(token)!.familyId)
  assert.equal(await a.ownerOf(token), 'client-a')
  assert.equal(await a.rotate(token, 'client-a'), undefined)
  assert.equal(await a.rotate(token, 'client-b'), undefined)
})

test('an expired token does not rotate', async () => {
  const { a, clock } = services()
  const token = (await a.issue(grant)).token
  clock.advance(3600_000)
  assert.equal(await a.rotate(token, 'client-a'), undefined)
})

test('malformed tokens are nobody’s; a bare 43-character secret is a token from before families', async () => {
  const { store, a } = services()
  for (const bad of ['', 'short', 'x'.repeat(42), 'a.b.c'.padEnd(65, 'x'), 'é'.repeat(65), 'x'.repeat(129)]) {
    assert.equal(parseRefreshToken(bad), undefined, JSON.stringify(bad))
    assert.equal(await a.ownerOf(bad), undefined)
    assert.equal(await a.rotate(bad, 'client-a'), undefined)
  }
  // What the migration makes of a live token of the old form: a family named by its hash.
  const legacy = 'L'.repeat(43)
  const digest = hashRefreshSecret(legacy)
  await store.insertRefreshFamily({
    familyId: digest,
    secretHash: digest,
    clientId: 'client-a',
    subject: 'client-a',
    scopes: ['prices.read'],
    createdAt: 1,
    rotatedAt: 1,
    expiresAt: Math.floor(Date.now() / 1000) + 60,
    revoked: false,
  })
  assert.equal(await a.ownerOf(legacy), 'client-a')
  const rotated = await a.rotate(legacy, 'client-a')
  assert.ok(rotated)
  assert.equal(rotated.next.length, 86, 'it rotates into a token of the new form, in the same family')
  assert.ok(await a.rotate(rotated.next, 'client-a'))
})

test('the owner cache is bounded; evicted owners come from the store', async () => {
  const { store, a } = services(10)
  const tokens = []
  for (let i = 0; i < 25; i++) tokens.push((await a.issue(grant)).token)
  let reads = 0
  const read = store.getRefreshFamily.bind(store)
  store.getRefreshFamily = async (familyId) => {
    reads++
    return read(familyId)
  }
  for (const token of tokens) assert.equal(await a.ownerOf(token), 'client-a')
  assert.ok(reads >= 15, `expected the evicted owners to be read from the store, got ${reads} reads`)
  assert.ok(reads < 25, `expected the newest owners to be remembered, got ${reads} reads`)
})

test('a client keeps at most its newest families, give or take one trim interval', async () => {
  const { store, clock, a } = services(undefined, 5)
  const busy: string[] = []
  for (let i = 0; i < 2 * TRIM_EVERY; i++) {
    busy.push((await a.issue(grant)).token)
    clock.advance(1000)
  }
  const quiet = (await a.issue({ ...grant, clientId: 'client-b', subject: 'client-b' })).token
  const live = async (tokens: string[]) => {
    let count = 0
    for (const token of tokens) if (await store.getRefreshFamily(parseRefreshToken(token)!.familyId)) count++
    return count
  }
  // The 2 × TRIM_EVERY-th family started a trim: the newest five are left, and the newest are
  // the ones that still refresh.
  assert.equal(await live(busy), 5)
  assert.equal(await live(busy.slice(-5)), 5)
  assert.equal(await a.rotate(busy[0]!, 'client-a'), undefined, 'an old family is gone')
  assert.ok(await a.rotate(busy.at(-1)!, 'client-a'))
  assert.equal(await live([quiet]), 1, "another client's family is not touched")
})
