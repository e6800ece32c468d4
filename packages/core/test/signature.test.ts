import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { SignatureVerifier, signatureReplayKey } from '../src/auth/signature.ts'
import { MasterKeyCipher } from '../src/cipher.ts'
import { sealContext } from '../src/clients/client-service.ts'
import { ManualClock, MemoryStore, nowSeconds } from '../src/index.ts'
import type { ClientRecord } from '../src/model.ts'

function setup() {
  const clock = new ManualClock()
  const store = new MemoryStore({ clock })
  const cipher = new MasterKeyCipher(randomBytes(32))
  const secret = 'the-client-secret'
  const client: ClientRecord = {
    clientId: 'openapi',
    name: 'openapi',
    scopes: [],
    grants: ['client_credentials'],
    tokenTtl: null,
    enabled: true,
    isPublic: false,
    introspect: false,
    signature: true,
    secrets: [],
    sealedSecret: cipher.encrypt(secret, sealContext('openapi')),
    jwks: null,
    jwksUri: null,
    createdAt: 0,
    updatedAt: 0,
  }
  const verifier = new SignatureVerifier({ store, cipher, clock, window: 300 })
  const sign = (time: string) =>
    createHash('md5').update(`${client.clientId}${time}${secret}`).digest('hex').toUpperCase()
  return { clock, store, client, verifier, sign }
}

test('a signed request is accepted once, under the key that leads with its time', async () => {
  const { clock, store, client, verifier, sign } = setup()
  const time = String(clock.now())
  const signature = sign(time)
  assert.equal(await verifier.verify(client, time, signature), true)
  assert.equal(await verifier.verify(client, time, signature.toLowerCase()), false, 'the same request again')
  assert.equal(
    signatureReplayKey('openapi', time, signature.toLowerCase()),
    `signature:${time}:openapi:${signature}`,
  )
  assert.equal(
    await store.consumeOnce(signatureReplayKey('openapi', time, signature), nowSeconds(clock) + 600),
    false,
  )
})

test('a time that is not digits is refused, even when signed over', async () => {
  const { clock, client, verifier, sign } = setup()
  // Number('') is 0 and Number('0x10') is 16: none of these may reach the window check or the key.
  for (const time of ['', '0x67', `${clock.now()}:x`, '1e12', ' 1733390000', 'NaN']) {
    assert.equal(await verifier.verify(client, time, sign(time)), false, JSON.stringify(time))
  }
})

test('only the MD5 of this client, this time and its secret passes, in either case of hex', async () => {
  const { clock, client, verifier, sign } = setup()
  const time = String(clock.now())
  const signature = sign(time)
  const oneDigitOff = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`
  assert.equal(await verifier.verify(client, time, oneDigitOff), false, 'one digit off')
  assert.equal(await verifier.verify(client, time, sign(String(clock.now() + 1))), false, 'another time')
  const otherSecret = createHash('md5').update(`${client.clientId}${time}other`).digest('hex')
  assert.equal(await verifier.verify(client, time, otherSecret), false, 'another secret')
  assert.equal(await verifier.verify(client, time, signature.toLowerCase()), true, 'lower-case hex')
  const next = String(clock.now() + 2)
  assert.equal(await verifier.verify(client, next, sign(next)), true, 'the next request after failures')
})
