import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { decodeProtectedHeader, jwtVerify } from 'jose'
import {
  KeyManager,
  KeyRing,
  ManualClock,
  MasterKeyCipher,
  MasterKeyMismatchError,
  MemoryStore,
} from '../src/index.ts'
import { CryptoSignatures } from '../src/keys/crypto-signatures.ts'

test('a retired key signs no more and its private part is let go; a next key is held ready', async () => {
  const clock = new ManualClock()
  const store = new MemoryStore({ clock })
  const cipher = new MasterKeyCipher(randomBytes(32))
  const manager = new KeyManager({ store, cipher, clock, algorithm: 'EdDSA', leadTime: 60 })
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
  const clock = new ManualClock()
  const store = new MemoryStore({ clock })
  const cipher = new MasterKeyCipher(randomBytes(32))
  const manager = new KeyManager({ store, cipher, clock, algorithm: 'EdDSA', leadTime: 60 })
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
