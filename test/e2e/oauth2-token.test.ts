import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { decodeJwtPart, json, startTestServer, type TestServer } from './harness.ts'

describe('POST /oauth/token: client credentials', () => {
  let server: TestServer
  let client: { id: string; secret: string }
  before(async () => {
    server = await startTestServer()
    client = await server.createClient({ scopes: ['prices.read', 'prices.write'] })
  })
  after(() => server.stop())

  test('client_secret_basic gets a bearer token with every scope by default', async () => {
    const res = await server.form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { auth: [client.id, client.secret] },
    )
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS on the token endpoint')
    const body = await json(res)
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
    assert.equal(body.token_type, 'bearer')
    assert.equal(body.expires_in, 3600)
    assert.equal(body.scope, 'prices.read prices.write')
  })

  test('client_secret_post with a narrower scope', async () => {
    const res = await server.form('/oauth/token', {
      grant_type: 'client_credentials',
      client_id: client.id,
      client_secret: client.secret,
      scope: 'prices.read',
    })
    assert.equal(res.status, 200)
    assert.equal((await json(res)).scope, 'prices.read')
  })

  test('a scope or resource sent without a value is treated as omitted (RFC 6749 §3.1)', async () => {
    const res = await server.form(
      '/oauth/token',
      { grant_type: 'client_credentials', scope: '', resource: '' },
      { auth: [client.id, client.secret] },
    )
    assert.equal(res.status, 200)
    assert.equal((await json(res)).scope, 'prices.read prices.write')
  })

  test('the token verifies through the JWKS named in discovery, with the RFC 9068 claims', async () => {
    const discovery = await json(await fetch(`${server.url}/.well-known/openid-configuration`))
    assert.equal(discovery.issuer, server.issuer)
    const res = await server.form(
      '/oauth/token',
      { grant_type: 'client_credentials', scope: 'prices.read' },
      { auth: [client.id, client.secret] },
    )
    const { access_token, expires_in } = await json(res)
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri))
    const { payload, protectedHeader } = await jwtVerify(access_token, jwks, {
      issuer: server.issuer,
      audience: server.issuer,
      typ: 'at+jwt',
    })
    assert.equal(protectedHeader.alg, 'RS256')
    assert.ok(protectedHeader.kid)
    assert.equal(payload.sub, client.id)
    assert.equal(payload.client_id, client.id)
    assert.equal(payload.scope, 'prices.read')
    assert.equal(payload.exp! - payload.iat!, expires_in)
    assert.equal(typeof payload.jti, 'string')
  })

  test('every token has its own jti, even within one second', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const res = await server.form(
          '/oauth/token',
          { grant_type: 'client_credentials' },
          { auth: [client.id, client.secret] },
        )
        return (await json(res)).access_token as string
      }),
    )
    assert.equal(new Set(tokens.map((t) => decodeJwtPart(t, 1).jti)).size, 5)
  })

  test('a client created without scopes gets a token whose answer omits scope', async () => {
    const bare = await server.createClient({ scopes: [] })
    const res = await server.form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { auth: [bare.id, bare.secret] },
    )
    assert.equal(res.status, 200)
    const body = await json(res)
    assert.equal('scope' in body, false)
    assert.equal('scope' in decodeJwtPart(body.access_token, 1), false)
  })

  test('an id and secret with reserved characters work through Basic (RFC 6749 §2.3.1 encoding)', async () => {
    const odd = await server.createClient({ clientId: 'acme:prices+feed', clientSecret: 'p@ss/w%rd&=+:0123' })
    const res = await server.form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { auth: [odd.id, odd.secret] },
    )
    assert.equal(res.status, 200)
    assert.equal(decodeJwtPart((await json(res)).access_token, 1).client_id, 'acme:prices+feed')
  })

  test('an API claims scopes: its identifier becomes the aud; resource narrows; several APIs are refused', async () => {
    await server.admin.apis.create({ identifier: 'https://api.example.com/prices', scopes: ['prices.write'] })
    // The server learns of the new API through the change feed.
    await new Promise((r) => setTimeout(r, 200))
    const auth: [string, string] = [client.id, client.secret]
    const res = await server.form(
      '/oauth/token',
      { grant_type: 'client_credentials', scope: 'prices.write' },
      { auth },
    )
    assert.equal(decodeJwtPart((await json(res)).access_token, 1).aud, 'https://api.example.com/prices')

    const both = await server.form('/oauth/token', { grant_type: 'client_credentials' }, { auth })
    assert.equal(both.status, 400)
    assert.equal((await json(both)).error, 'invalid_target')

    const narrowed = await server.form(
      '/oauth/token',
      { grant_type: 'client_credentials', resource: 'https://api.example.com/prices' },
      { auth },
    )
    const body = await json(narrowed)
    assert.equal(body.scope, 'prices.write')
    assert.equal(decodeJwtPart(body.access_token, 1).aud, 'https://api.example.com/prices')

    const unknown = await server.form(
      '/oauth/token',
      { grant_type: 'client_credentials', resource: 'https://elsewhere' },
      { auth },
    )
    assert.equal((await json(unknown)).error, 'invalid_target')
  })
})

test('with allowMultipleAudiences, a token may name several APIs', async () => {
  const server = await startTestServer({ tokens: { allowMultipleAudiences: true } })
  try {
    const client = await server.createClient({ scopes: ['a', 'b'] })
    await server.admin.apis.create({ identifier: 'https://api.example.com/a', scopes: ['a'] })
    await new Promise((r) => setTimeout(r, 200))
    const res = await server.form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { auth: [client.id, client.secret] },
    )
    assert.deepEqual(
      decodeJwtPart((await json(res)).access_token, 1).aud,
      ['https://api.example.com/a', server.issuer].sort(),
    )
  } finally {
    await server.stop()
  }
})

describe('token algorithms', () => {
  for (const algorithm of ['ES256', 'EdDSA'] as const) {
    test(`${algorithm} tokens verify through the JWKS`, async () => {
      const server = await startTestServer({ tokens: { algorithm, typ: 'JWT' } })
      try {
        const client = await server.createClient()
        const res = await server.form(
          '/oauth/token',
          { grant_type: 'client_credentials' },
          { auth: [client.id, client.secret] },
        )
        const { access_token } = await json(res)
        const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`))
        const { protectedHeader } = await jwtVerify(access_token, jwks, { issuer: server.issuer, typ: 'JWT' })
        assert.equal(protectedHeader.alg, algorithm)
      } finally {
        await server.stop()
      }
    })
  }
})
