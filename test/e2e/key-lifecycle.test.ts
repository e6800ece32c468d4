import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { decodeJwtPart, json, startTestServer } from './harness.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('scheduled rotation: a new key is published a lead time before it signs, and the old one stays published', async () => {
  const server = await startTestServer({ keys: { rotationPeriod: 2, leadTime: 1 }, tokens: { maxTtl: 60 } })
  try {
    const client = await server.createClient()
    const token = async () => {
      const res = await server.form(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { auth: [client.id, client.secret] },
      )
      return (await json(res)).access_token as string
    }
    const first = await token()
    const firstKid = decodeJwtPart(first, 0).kid
    // Within the period plus a check interval, a successor appears in state "next".
    let next: { kid: string; state: string } | undefined
    for (let i = 0; i < 40 && !next; i++) {
      await sleep(100)
      const keys = (await server.admin.store.listSigningKeys()).filter((k) => k.kid !== firstKid)
      if (keys[0])
        next = { kid: keys[0].kid, state: Date.now() / 1000 < keys[0].activatesAt ? 'next' : 'active' }
    }
    assert.ok(next, 'a key was rotated in on schedule')
    const published = await json(await fetch(`${server.url}/.well-known/jwks.json`))
    assert.ok(
      published.keys.some((k: { kid: string }) => k.kid === next!.kid),
      'published before or as it signs',
    )
    // After the lead time the new key signs; the old token still verifies.
    await sleep(1300)
    const later = await token()
    assert.notEqual(decodeJwtPart(later, 0).kid, firstKid)
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`))
    await jwtVerify(first, jwks, { issuer: server.issuer })
    await jwtVerify(later, jwks, { issuer: server.issuer })
  } finally {
    await server.stop()
  }
})

test('a retired key leaves the JWKS once every token it signed has expired', async () => {
  const server = await startTestServer({ keys: { rotationPeriod: 0 }, tokens: { maxTtl: 3 } })
  try {
    const [old] = await server.admin.store.listSigningKeys()
    await server.admin.keys.rotate({ now: true })
    await sleep(200)
    let kids = (await json(await fetch(`${server.url}/.well-known/jwks.json`))).keys.map(
      (k: { kid: string }) => k.kid,
    )
    assert.ok(kids.includes(old!.kid), 'still published right after retiring')
    await sleep(4100)
    kids = (await json(await fetch(`${server.url}/.well-known/jwks.json`))).keys.map(
      (k: { kid: string }) => k.kid,
    )
    assert.equal(kids.includes(old!.kid), false, 'gone after maxTtl')
    assert.equal(kids.length, 1)
  } finally {
    await server.stop()
  }
})

test('the JWKS cache lifetime is shorter than the lead time', async () => {
  const server = await startTestServer({ keys: { leadTime: 120 } })
  try {
    const res = await fetch(`${server.url}/.well-known/jwks.json`)
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1])
    assert.ok(maxAge > 0 && maxAge <= 60, `max-age ${maxAge}`)
  } finally {
    await server.stop()
  }
})

test('discovery lists exactly what is enabled', async () => {
  const on = await startTestServer()
  const off = await startTestServer({
    endpoints: { introspection: { enabled: false }, revocation: { enabled: false } },
  })
  try {
    const doc = await json(await fetch(`${on.url}/.well-known/oauth-authorization-server`))
    assert.equal(doc.introspection_endpoint, `${on.issuer}/oauth/introspect`)
    assert.equal(doc.revocation_endpoint, `${on.issuer}/oauth/revoke`)
    for (const field of [
      'token_endpoint_auth_methods_supported',
      'introspection_endpoint_auth_methods_supported',
      'revocation_endpoint_auth_methods_supported',
    ]) {
      assert.deepEqual(doc[field], ['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
    }
    assert.deepEqual(doc.access_token_signing_alg_values_supported, ['RS256'])
    const introspect = await on.form('/oauth/introspect', { token: 'x' })
    assert.equal(introspect.status, 401, 'the advertised endpoint exists')

    const reduced = await json(await fetch(`${off.url}/.well-known/openid-configuration`))
    assert.equal(reduced.introspection_endpoint, undefined)
    assert.equal(reduced.revocation_endpoint, undefined)
    assert.equal((await off.form('/oauth/introspect', { token: 'x' })).status, 404)
  } finally {
    await on.stop()
    await off.stop()
  }
})
