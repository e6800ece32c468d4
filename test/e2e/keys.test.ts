import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { decodeJwtPart, json, startTestServer, type TestServer } from './harness.ts'

async function token(server: TestServer, client: { id: string; secret: string }): Promise<string> {
  const res = await server.form(
    '/oauth/token',
    { grant_type: 'client_credentials' },
    { auth: [client.id, client.secret] },
  )
  assert.equal(res.status, 200)
  return (await json(res)).access_token
}

async function verify(server: TestServer, jwt: string) {
  // A fresh key set each time, as a verifier that refetches on an unknown kid would.
  return jwtVerify(jwt, createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`)), {
    issuer: server.issuer,
  })
}

const waitForFeed = () => new Promise((r) => setTimeout(r, 200))

test('keys rotate: the new key is published before it signs; old tokens keep verifying', async () => {
  const server = await startTestServer({ keys: { leadTime: 600 } })
  try {
    const client = await server.createClient()
    const before = await token(server, client)
    const oldKid = decodeJwtPart(before, 0).kid

    const next = await server.admin.keys.rotate({ now: false })
    await waitForFeed()
    const jwks = await json(await fetch(`${server.url}/.well-known/jwks.json`))
    assert.deepEqual(
      jwks.keys.map((k: { kid: string }) => k.kid).sort(),
      [oldKid, next.kid].sort(),
      'both keys are published',
    )
    const during = await token(server, client)
    assert.equal(decodeJwtPart(during, 0).kid, oldKid, 'the new key does not sign before its lead time')
    await verify(server, before)
    await verify(server, during)
  } finally {
    await server.stop()
  }
})

test('keys rotate --now: the new key signs at once and the old one stays published for its tokens', async () => {
  const server = await startTestServer()
  try {
    const client = await server.createClient()
    const before = await token(server, client)
    const next = await server.admin.keys.rotate({ now: true })
    await waitForFeed()
    const after = await token(server, client)
    assert.equal(decodeJwtPart(after, 0).kid, next.kid)
    await verify(server, before)
    await verify(server, after)
    const states = (await server.admin.store.listSigningKeys()).map((k) => k.retiresAt === null)
    assert.deepEqual(states.sort(), [false, true])
  } finally {
    await server.stop()
  }
})

test('tokens verify after a restart on the same data, and the key is not regenerated', async () => {
  // A fixed issuer: with port 0 the address, and so the default issuer, changes on restart.
  const first = await startTestServer({ issuer: 'http://gatehouse.test' })
  const client = await first.createClient()
  const before = await token(first, client)
  const dir = first.dataDir
  await first.stop({ keepData: true })

  const second = await startTestServer({ issuer: 'http://gatehouse.test' }, dir)
  try {
    assert.equal(second.gatehouse.createdKey, undefined)
    const after = await token(second, client)
    assert.equal(decodeJwtPart(after, 0).kid, decodeJwtPart(before, 0).kid)
    await verify(second, before)
  } finally {
    await second.stop()
  }
})

test('the private key is stored sealed under the master key, never in the clear', async () => {
  const server = await startTestServer()
  try {
    const [key] = await server.admin.store.listSigningKeys()
    assert.ok(key)
    assert.doesNotMatch(key.sealedPrivateKey, /PRIVATE KEY/)
    assert.equal(
      JSON.stringify(key.publicJwk).includes('"d"'),
      false,
      'the published JWK has no private part',
    )
    const jwks = await json(await fetch(`${server.url}/.well-known/jwks.json`))
    for (const k of jwks.keys) assert.equal('d' in k, false)
  } finally {
    await server.stop()
  }
})
