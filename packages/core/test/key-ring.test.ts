import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { decodeProtectedHeader, jwtVerify } from 'jose'
import { nowSeconds } from '../src/clock.ts'
import {
  KeyManager,
  KeyRing,
  ManualClock,
  MasterKeyCipher,
  MasterKeyMismatchError,
  MemoryStore,
} from '../src/index.ts'
import { CryptoSignatures } from '../src/keys/crypto-signatures.ts'
import { currentSigner, keyState } from '../src/keys/key-state.ts'

/** A store in memory on a clock of the test's own, and a key manager over it (EdDSA, 60 s lead). */
function keysInMemory() {
  const clock = new ManualClock()
  const store = new MemoryStore({ clock })
  const cipher = new MasterKeyCipher(randomBytes(32))
  const manager = new KeyManager({ store, cipher, clock, algorithm: 'EdDSA', leadTime: 60 })
  return { clock, store, cipher, manager }
}

test('a retired key signs no more and its private part is let go; a next key is held ready', async () => {
  const { clock, store, cipher, manager } = keysInMemory()
  const signatures = new CryptoSignatures()
  const loaded = new Set<string>()
  const load = signatures.load.bind(signatures)
  const unload = signatures.unload.bind(signatures)
  signatures.load = (kid, alg, key) => {
    loaded.add(kid)
    load(kid, alg, key)
  }
  signatures.unload = (kid) => {
    loaded.delete(kid)
    unload(kid)
  }
  const ring = new KeyRing({ store, cipher, clock, maxTtl: 3600, signatures })

  const first = await manager.rotate({ now: true })
  const next = await manager.rotate({ now: false })
  await ring.reload()
  assert.deepEqual([...loaded].sort(), [first.kid, next.kid].sort(), 'the next key is ready before it signs')
  assert.equal(ring.signer()?.kid, first.kid)

  clock.advance(61_000)
  await ring.reload()
  assert.deepEqual([...loaded], [next.kid], 'the retired key is unloaded')
  const token = await ring.signer()!.sign('at+jwt', '{"sub":"x"}')
  assert.equal(decodeProtectedHeader(token).kid, next.kid)
  await jwtVerify(token, ring.verificationKeys())
  assert.ok(
    ring.jwks().keys.some((k) => k.kid === first.kid),
    'the retired key is still published for the tokens it signed',
  )
})

test('a key sealed with another master key fails the reload and leaves the current key signing', async () => {
  const { clock, store, cipher, manager } = keysInMemory()
  const ring = new KeyRing({ store, cipher, clock, maxTtl: 3600, signatures: new CryptoSignatures() })
  const first = await manager.rotate({ now: true })
  await ring.reload()
  await manager.checkMasterKey()

  const stranger = new KeyManager({
    store,
    cipher: new MasterKeyCipher(randomBytes(32)),
    clock,
    algorithm: 'EdDSA',
    leadTime: 60,
  })
  await assert.rejects(stranger.checkMasterKey(), MasterKeyMismatchError)
  // What a CLI holding another master key did before it was checked: `keys rotate --now`.
  clock.advance(1000)
  await stranger.rotate({ now: true })
  await assert.rejects(ring.reload(), /cannot decrypt/)
  assert.equal(ring.signer()?.kid, first.kid, 'the key that signed still signs')
  assert.ok(await ring.signer()!.sign('at+jwt', '{"sub":"x"}'))
  await assert.rejects(manager.checkMasterKey(), MasterKeyMismatchError, 'the newest key is not ours now')
})

test('a waiting key superseded by rotate --now never signs, and does not hold the schedule back', async () => {
  const { clock, store, manager } = keysInMemory()
  await manager.rotate({ now: true })
  const waiting = await manager.rotate({ now: false })
  const now = await manager.rotate({ now: true })
  const state = async (kid: string) =>
    keyState((await store.listSigningKeys()).find((k) => k.kid === kid)!, nowSeconds(clock))
  assert.equal(await state(waiting.kid), 'retired')
  clock.advance(61_000)
  assert.equal(await state(waiting.kid), 'retired', 'not even once its time comes')
  assert.equal(currentSigner(await store.listSigningKeys(), nowSeconds(clock))?.kid, now.kid)
  assert.ok(await manager.rotateIfDue(30), 'a scheduled rotation is not held back by it')
})

test('a key could have signed only while it was active, and only as long as it is published', async () => {
  const { clock, store, cipher, manager } = keysInMemory()
  const ring = new KeyRing({ store, cipher, clock, maxTtl: 3600, signatures: new CryptoSignatures() })
  const start = nowSeconds(clock)
  const first = await manager.rotate({ now: true })
  clock.advance(100_000)
  const waiting = await manager.rotate({ now: false })
  const second = await manager.rotate({ now: true })
  await ring.reload()
  assert.equal(ring.couldHaveSigned(first.kid, start + 50), true)
  assert.equal(ring.couldHaveSigned(first.kid, start + 200), false, 'dated after it retired')
  assert.equal(ring.couldHaveSigned(second.kid, start + 50), false, 'dated before it activated')
  assert.equal(ring.couldHaveSigned(second.kid, start + 200), true)
  assert.equal(ring.couldHaveSigned(waiting.kid, start + 200), false, 'a key that never signed')
  assert.equal(ring.couldHaveSigned('no-such-kid', start + 50), false)
  assert.equal(ring.couldHaveSigned(first.kid, 'yesterday'), false)
  clock.advance(3_600_000)
  assert.equal(ring.couldHaveSigned(first.kid, start + 50), false, 'no longer published: its tokens expired')
})
