import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { ClientAssertionVerifier } from '../src/auth/client-assertion.ts'
import { ManualClock, MemoryStore } from '../src/index.ts'
import type { ClientRecord } from '../src/model.ts'
import { sampleClient } from '../src/storage/contract.ts'

const ISSUER = 'https://auth.example'

async function keyPair() {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' } }
}

function keyClient(jwk: Record<string, unknown>): ClientRecord {
  return {
    ...sampleClient('partner'),
    signature: false,
    sealedSecret: null,
    jwks: { keys: [jwk] },
    jwksUri: null,
  }
}

test('a client re-registered under the same id with new keys is checked against the new keys at once', async () => {
  const clock = new ManualClock()
  const verifier = new ClientAssertionVerifier({ store: new MemoryStore({ clock }), clock, issuer: ISSUER })
  const assertion = (privateKey: Awaited<ReturnType<typeof keyPair>>['privateKey']) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('partner')
      .setSubject('partner')
      .setAudience(ISSUER)
      .setIssuedAt(Math.floor(clock.now() / 1000))
      .setExpirationTime(Math.floor(clock.now() / 1000) + 60)
      .setJti(randomUUID())
      .sign(privateKey)

  const first = await keyPair()
  const before = keyClient(first.jwk)
  assert.equal(await verifier.verify(before, await assertion(first.privateKey)), true)
  assert.equal(await verifier.verify(before, await assertion(first.privateKey)), true, 'and again')

  // Same id and kid, another key: the keys imported for the old record must not answer for it.
  const second = await keyPair()
  const after = keyClient(second.jwk)
  assert.equal(await verifier.verify(after, await assertion(first.privateKey)), false)
  assert.equal(await verifier.verify(after, await assertion(second.privateKey)), true)
})
