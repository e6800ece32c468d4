/*
 * Interoperability with a second, independent client library: @badgateway/oauth2-client
 * (Evert Pot; zero dependencies, RFC 6749 / 7662 / 8414). Discovery from the server root,
 * the client-credentials grant with each of its three client authentication encodings,
 * introspection, revocation and refresh through its own methods, and verification of
 * the tokens through the published JWKS.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { OAuth2Client, OAuth2HttpError } from '@badgateway/oauth2-client'
import { decodeJwtPart, json, startTestServer, type TestServer } from './harness.ts'
import { NO_RATE_LIMIT, verifyAccessToken, waitForFeed } from './interop-fixtures.ts'

type Method = 'client_secret_basic' | 'client_secret_basic_interop' | 'client_secret_post'

describe('@badgateway/oauth2-client', () => {
  let server: TestServer
  let client: { id: string; secret: string }

  before(async () => {
    server = await startTestServer(NO_RATE_LIMIT)
    client = await server.createClient()
  })
  after(() => server.stop())

  /** A library client that finds the endpoints itself, from the RFC 8414 document under `server`. */
  function library(credentials: { id: string; secret: string }, authenticationMethod?: Method) {
    return new OAuth2Client({
      server: `${server.url}/`,
      clientId: credentials.id,
      clientSecret: credentials.secret,
      ...(authenticationMethod ? { authenticationMethod } : {}),
    })
  }

  test('discovery from the server root finds the token, introspection and revocation endpoints', async () => {
    const oauth2 = library(client)
    assert.equal(await oauth2.getEndpoint('tokenEndpoint'), `${server.issuer}/oauth/token`)
    assert.equal(await oauth2.getEndpoint('introspectionEndpoint'), `${server.issuer}/oauth/introspect`)
    assert.equal(await oauth2.getEndpoint('revocationEndpoint'), `${server.issuer}/oauth/revoke`)
    // The library adopts the first method the server lists that it supports.
    assert.equal(oauth2.settings.authenticationMethod, 'client_secret_basic')
  })

  for (const method of [
    'client_secret_basic',
    'client_secret_basic_interop',
    'client_secret_post',
  ] as const) {
    test(`client credentials with ${method}; the token verifies through the JWKS`, async () => {
      const token = await library(client, method).clientCredentials()
      assert.deepEqual(token.scope, ['prices.read'])
      assert.equal(token.refreshToken, null)
      assert.ok(token.expiresAt !== null && token.expiresAt > Date.now())
      const { payload, protectedHeader } = await verifyAccessToken(server, token.accessToken)
      assert.equal(protectedHeader.typ, 'at+jwt')
      assert.equal(payload.sub, client.id)
      assert.equal(payload.client_id, client.id)
      assert.equal(payload.scope, 'prices.read')
    })
  }

  test('strict RFC 6749 §2.3.1 Basic encoding of an id and secret full of reserved characters', async () => {
    // legacyFormUrlEncode percent-encodes every non-alphanumeric character, ':' and '+' included.
    const awkward = await server.createClient({
      clientId: 'acme:svc+1/%a~b',
      clientSecret: 'p@ss:w+rd/%20=&?"',
    })
    const token = await library(awkward, 'client_secret_basic').clientCredentials()
    const { payload } = await verifyAccessToken(server, token.accessToken)
    assert.equal(payload.client_id, 'acme:svc+1/%a~b')
    // The same credentials in the body.
    const posted = await library(awkward, 'client_secret_post').clientCredentials()
    assert.equal(decodeJwtPart(posted.accessToken, 1).client_id, 'acme:svc+1/%a~b')
  })

  test('a requested scope narrows the token', async () => {
    const wide = await server.createClient({ scopes: ['prices.read', 'prices.write'] })
    const token = await library(wide, 'client_secret_post').clientCredentials({ scope: ['prices.write'] })
    assert.deepEqual(token.scope, ['prices.write'])
    assert.equal((await verifyAccessToken(server, token.accessToken)).payload.scope, 'prices.write')
  })

  test('a wrong secret is an OAuth2HttpError invalid_client, 401', async () => {
    for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
      await assert.rejects(
        library({ id: client.id, secret: 'wrong-secret' }, method).clientCredentials(),
        (error) => {
          assert.ok(error instanceof OAuth2HttpError)
          assert.equal(error.oauth2Code, 'invalid_client')
          assert.equal(error.httpCode, 401)
          return true
        },
      )
    }
  })

  test('an unknown scope is an OAuth2HttpError invalid_scope, 400', async () => {
    await assert.rejects(
      library(client, 'client_secret_post').clientCredentials({ scope: ['admin'] }),
      (error) => {
        assert.ok(error instanceof OAuth2HttpError)
        assert.equal(error.oauth2Code, 'invalid_scope')
        assert.equal(error.httpCode, 400)
        return true
      },
    )
  })

  for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
    test(`introspect and revoke with ${method}`, async () => {
      const oauth2 = library(client, method)
      const token = await oauth2.clientCredentials()
      const { payload } = await verifyAccessToken(server, token.accessToken)

      const live = await oauth2.introspect(token)
      assert.equal(live.active, true)
      assert.equal(live.client_id, client.id)
      assert.equal(live.sub, client.id)
      assert.equal(live.scope, 'prices.read')
      assert.equal(live.token_type, 'Bearer')
      assert.equal(live.exp, payload.exp)
      assert.equal(live.jti, payload.jti)

      await oauth2.revoke(token)
      assert.deepEqual(await oauth2.introspect(token), { active: false })
      // Revoking twice is no error (RFC 7009 §2.2).
      await oauth2.revoke(token)
    })
  }

  test("another client's token: introspection says inactive, revocation is refused", async () => {
    const owner = library(client, 'client_secret_basic')
    const stranger = library(await server.createClient(), 'client_secret_basic')
    const token = await owner.clientCredentials()
    assert.deepEqual(await stranger.introspect(token), { active: false })
    await assert.rejects(stranger.revoke(token), (error) => {
      assert.ok(error instanceof OAuth2HttpError)
      assert.equal(error.oauth2Code, 'invalid_request')
      assert.equal(error.httpCode, 400)
      return true
    })
    assert.equal((await owner.introspect(token)).active, true)
  })

  test('refresh: a refresh token from the refresh dialect is used, introspected and revoked', async () => {
    const refreshing = await server.createClient({ grants: ['client_credentials', 'refresh_token'] })
    const res = await server.form('/amsu-analysis/v2/token', {
      client_id: refreshing.id,
      client_secret: refreshing.secret,
    })
    assert.equal(res.status, 200)
    const first = await json(res)
    const oauth2 = library(refreshing, 'client_secret_basic')

    const token = await oauth2.refreshToken({
      accessToken: first.access_token,
      refreshToken: first.refresh_token,
      expiresAt: null,
    })
    assert.ok(token.refreshToken, 'a new refresh token comes back')
    assert.notEqual(token.refreshToken, first.refresh_token, 'the refresh token rotates')
    assert.equal((await verifyAccessToken(server, token.accessToken)).payload.client_id, refreshing.id)

    const rotated = await oauth2.request('introspectionEndpoint', { token: first.refresh_token })
    assert.deepEqual(rotated, { active: false }, 'the spent refresh token is inactive')
    const live = await oauth2.request('introspectionEndpoint', {
      token: token.refreshToken,
      token_type_hint: 'refresh_token',
    })
    assert.equal(live.active, true)
    assert.equal(live.token_type, 'refresh_token')

    await oauth2.revoke(token, 'refresh_token')
    assert.deepEqual(await oauth2.request('introspectionEndpoint', { token: token.refreshToken }), {
      active: false,
    })
  })

  test('tokens from before and after a key rotation both verify', async () => {
    const oauth2 = library(client, 'client_secret_post')
    const before = await oauth2.clientCredentials()
    const next = await server.admin.keys.rotate({ now: true })
    await waitForFeed()
    const afterRotation = await oauth2.clientCredentials()
    assert.equal(decodeJwtPart(afterRotation.accessToken, 0).kid, next.kid)
    await verifyAccessToken(server, before.accessToken)
    await verifyAccessToken(server, afterRotation.accessToken)
  })
})
