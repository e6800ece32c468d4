/*
 * Interoperability with openid-client v6 (panva): discovery, the client-credentials grant
 * with client_secret_basic, client_secret_post and private_key_jwt, introspection (RFC 7662)
 * and revocation (RFC 7009) through the library's own functions, and verification of the
 * tokens with jose through the published JWKS, across a key rotation.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as oidc from 'openid-client'
import { decodeJwtPart, json, startTestServer, type TestServer } from './harness.ts'
import {
  type AssertionAlg,
  createKeyClient,
  type KeyClient,
  NO_RATE_LIMIT,
  clientKey as newClientKey,
  serveJwks,
  verifyAccessToken,
  waitForFeed,
} from './interop-fixtures.ts'

const insecure = { execute: [oidc.allowInsecureRequests] }

/** A Configuration for `clientId`, from the server's own discovery document. */
function discover(
  server: TestServer,
  clientId: string,
  auth: oidc.ClientAuth,
  algorithm: 'oidc' | 'oauth2' = 'oidc',
): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(server.issuer), clientId, undefined, auth, { ...insecure, algorithm })
}

function privateKeyJwt(client: KeyClient): oidc.ClientAuth {
  return oidc.PrivateKeyJwt({ key: client.key.privateKey, kid: client.key.kid })
}

/** Gets a token through openid-client and checks the answer and the token's claims. */
async function grantAndVerify(server: TestServer, config: oidc.Configuration, clientId: string) {
  const tokens = await oidc.clientCredentialsGrant(config)
  assert.equal(tokens.token_type, 'bearer')
  assert.equal(typeof tokens.expires_in, 'number')
  assert.equal(tokens.scope, 'prices.read')
  const { payload, protectedHeader } = await verifyAccessToken(server, tokens.access_token)
  assert.equal(protectedHeader.typ, 'at+jwt')
  assert.equal(payload.sub, clientId)
  assert.equal(payload.client_id, clientId)
  assert.equal(payload.scope, 'prices.read')
  assert.equal(payload.exp! - payload.iat!, tokens.expires_in)
  return tokens
}

describe('openid-client v6', () => {
  let server: TestServer
  let secretClient: { id: string; secret: string }

  before(async () => {
    server = await startTestServer(NO_RATE_LIMIT)
    secretClient = await server.createClient()
  })
  after(() => server.stop())

  describe('discovery', () => {
    for (const algorithm of ['oidc', 'oauth2'] as const) {
      test(`${algorithm} discovery names every endpoint and the three client authentication methods`, async () => {
        const config = await discover(
          server,
          secretClient.id,
          oidc.ClientSecretBasic(secretClient.secret),
          algorithm,
        )
        const metadata = config.serverMetadata()
        assert.equal(metadata.issuer, server.issuer)
        assert.equal(metadata.token_endpoint, `${server.issuer}/oauth/token`)
        assert.equal(metadata.introspection_endpoint, `${server.issuer}/oauth/introspect`)
        assert.equal(metadata.revocation_endpoint, `${server.issuer}/oauth/revoke`)
        assert.equal(metadata.jwks_uri, `${server.issuer}/.well-known/jwks.json`)
        assert.ok(metadata.grant_types_supported?.includes('client_credentials'))
        const methods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt']
        for (const field of [
          'token_endpoint_auth_methods_supported',
          'introspection_endpoint_auth_methods_supported',
          'revocation_endpoint_auth_methods_supported',
        ] as const) {
          for (const method of methods) assert.ok(metadata[field]?.includes(method), `${field} has ${method}`)
        }
        for (const field of [
          'token_endpoint_auth_signing_alg_values_supported',
          'introspection_endpoint_auth_signing_alg_values_supported',
          'revocation_endpoint_auth_signing_alg_values_supported',
        ] as const) {
          const algs = metadata[field]
          assert.ok(Array.isArray(algs) && algs.includes('ES256') && algs.includes('RS256'), field)
        }
      })
    }

    test('both well-known documents are the same', async () => {
      const a = await json(await fetch(`${server.url}/.well-known/openid-configuration`))
      const b = await json(await fetch(`${server.url}/.well-known/oauth-authorization-server`))
      assert.deepEqual(a, b)
    })
  })

  describe('client credentials grant', () => {
    test('with ClientSecretBasic', async () => {
      const config = await discover(server, secretClient.id, oidc.ClientSecretBasic(secretClient.secret))
      await grantAndVerify(server, config, secretClient.id)
    })

    test('with ClientSecretPost', async () => {
      const config = await discover(server, secretClient.id, oidc.ClientSecretPost(secretClient.secret))
      await grantAndVerify(server, config, secretClient.id)
    })

    for (const alg of ['ES256', 'RS256', 'PS256'] as AssertionAlg[]) {
      test(`with PrivateKeyJwt (${alg}, keys registered inline)`, async () => {
        const client = await createKeyClient(server, { alg })
        const config = await discover(server, client.id, privateKeyJwt(client))
        await grantAndVerify(server, config, client.id)
        // Every call signs a fresh assertion (new jti): a second grant works too.
        await grantAndVerify(server, config, client.id)
      })
    }

    test('with PrivateKeyJwt (Ed25519 key, assertion header alg "EdDSA" as discovery advertises)', async () => {
      const client = await createKeyClient(server, { alg: 'EdDSA' })
      const auth = oidc.PrivateKeyJwt(
        { key: client.key.privateKey, kid: client.key.kid },
        {
          [oidc.modifyAssertion]: (header) => {
            header.alg = 'EdDSA'
          },
        },
      )
      const config = await discover(server, client.id, auth)
      await grantAndVerify(server, config, client.id)
    })

    test('with PrivateKeyJwt (Ed25519 key, openid-client default header alg "Ed25519", RFC 9864)', async () => {
      const key = await newClientKey('EdDSA')
      // Registered without "alg", so the key matches either name for the algorithm.
      const { alg: _alg, ...publicJwk } = key.publicJwk
      const { id } = await server.createClient({ jwks: { keys: [publicJwk] } })
      const config = await discover(server, id, privateKeyJwt({ id, key }))
      await grantAndVerify(server, config, id)
    })

    test('with PrivateKeyJwt and keys at a jwks_uri', async () => {
      const key = await newClientKey('ES256')
      const host = await serveJwks({ keys: [key.publicJwk] })
      try {
        const { id, secret } = await server.createClient({ jwksUri: host.url })
        assert.equal(secret, '')
        const config = await discover(server, id, privateKeyJwt({ id, key }))
        await grantAndVerify(server, config, id)
        assert.ok(host.hits() >= 1, 'the server fetched the client keys')
      } finally {
        await host.close()
      }
    })

    test('a narrower scope parameter is honoured', async () => {
      const wide = await server.createClient({ scopes: ['prices.read', 'prices.write'] })
      const config = await discover(server, wide.id, oidc.ClientSecretBasic(wide.secret))
      const all = await oidc.clientCredentialsGrant(config)
      assert.deepEqual(all.scope?.split(' ').sort(), ['prices.read', 'prices.write'])
      const narrow = await oidc.clientCredentialsGrant(config, { scope: 'prices.write' })
      assert.equal(narrow.scope, 'prices.write')
      const { payload } = await verifyAccessToken(server, narrow.access_token)
      assert.equal(payload.scope, 'prices.write')
    })

    test('a wrong secret in Basic surfaces as a 401 Basic challenge with invalid_client', async () => {
      const config = await discover(server, secretClient.id, oidc.ClientSecretBasic('wrong'))
      const error = await oidc.clientCredentialsGrant(config).then(
        () => assert.fail('the grant succeeded'),
        (thrown: unknown) => thrown,
      )
      // RFC 6749 §5.2: with Basic, a 401 carries WWW-Authenticate, which oauth4webapi reports first.
      assert.ok(error instanceof oidc.WWWAuthenticateChallengeError)
      assert.equal(error.status, 401)
      assert.equal(error.cause[0]?.scheme, 'basic')
      assert.equal((await json(error.response)).error, 'invalid_client')
    })

    test('a wrong secret in the body surfaces as invalid_client (401)', async () => {
      const config = await discover(server, secretClient.id, oidc.ClientSecretPost('wrong'))
      await assert.rejects(oidc.clientCredentialsGrant(config), (error: unknown) => {
        assert.ok(error instanceof oidc.ResponseBodyError)
        assert.equal(error.error, 'invalid_client')
        assert.equal(error.status, 401)
        return true
      })
    })

    test('an assertion signed by another key surfaces as invalid_client (401)', async () => {
      const client = await createKeyClient(server)
      const stranger = await newClientKey('ES256')
      const config = await discover(server, client.id, oidc.PrivateKeyJwt({ key: stranger.privateKey }))
      await assert.rejects(oidc.clientCredentialsGrant(config), (error: unknown) => {
        assert.ok(error instanceof oidc.ResponseBodyError)
        assert.equal(error.error, 'invalid_client')
        assert.equal(error.status, 401)
        return true
      })
    })
  })

  describe('introspection and revocation', () => {
    const authOf = {
      basic: (c: { secret: string }) => oidc.ClientSecretBasic(c.secret),
      post: (c: { secret: string }) => oidc.ClientSecretPost(c.secret),
    }

    for (const method of ['basic', 'post'] as const) {
      test(`tokenIntrospection and tokenRevocation with client_secret_${method}`, async () => {
        const config = await discover(server, secretClient.id, authOf[method](secretClient))
        const tokens = await oidc.clientCredentialsGrant(config)
        const { payload } = await verifyAccessToken(server, tokens.access_token)

        const live = await oidc.tokenIntrospection(config, tokens.access_token)
        assert.equal(live.active, true)
        assert.equal(live.client_id, secretClient.id)
        assert.equal(live.sub, secretClient.id)
        assert.equal(live.scope, 'prices.read')
        assert.equal(live.iss, server.issuer)
        assert.equal(live.token_type, 'Bearer')
        assert.equal(live.exp, payload.exp)
        assert.equal(live.iat, payload.iat)
        assert.equal(live.jti, payload.jti)
        assert.deepEqual(live.aud, payload.aud)

        await oidc.tokenRevocation(config, tokens.access_token)
        const dead = await oidc.tokenIntrospection(config, tokens.access_token)
        assert.equal(dead.active, false)
        assert.deepEqual(Object.keys(dead), ['active'])

        // Revoking again, or a token the server never issued, is no error (RFC 7009 §2.2).
        await oidc.tokenRevocation(config, tokens.access_token)
        await oidc.tokenRevocation(config, 'not-a-token')
      })
    }

    test('tokenIntrospection and tokenRevocation with PrivateKeyJwt', async () => {
      const client = await createKeyClient(server, { alg: 'ES256' })
      const config = await discover(server, client.id, privateKeyJwt(client))
      const tokens = await oidc.clientCredentialsGrant(config)

      const live = await oidc.tokenIntrospection(config, tokens.access_token)
      assert.equal(live.active, true)
      assert.equal(live.client_id, client.id)
      assert.equal(live.token_type, 'Bearer')

      await oidc.tokenRevocation(config, tokens.access_token)
      const dead = await oidc.tokenIntrospection(config, tokens.access_token)
      assert.deepEqual({ ...dead }, { active: false })
    })

    test('PrivateKeyJwt with keys at a jwks_uri works at introspection and revocation too', async () => {
      const key = await newClientKey('RS256')
      const host = await serveJwks({ keys: [key.publicJwk] })
      try {
        const { id } = await server.createClient({ jwksUri: host.url })
        const config = await discover(server, id, privateKeyJwt({ id, key }))
        const tokens = await oidc.clientCredentialsGrant(config)
        assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, true)
        await oidc.tokenRevocation(config, tokens.access_token)
        assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false)
      } finally {
        await host.close()
      }
    })

    test("a client sees only its own tokens; a resource server (introspect: true) sees everyone's", async () => {
      const owner = await server.createClient()
      const other = await server.createClient()
      const resourceServer = await createKeyClient(server, { introspect: true })
      const ownerConfig = await discover(server, owner.id, oidc.ClientSecretBasic(owner.secret))
      const otherConfig = await discover(server, other.id, oidc.ClientSecretPost(other.secret))
      const rsConfig = await discover(server, resourceServer.id, privateKeyJwt(resourceServer))
      const { access_token } = await oidc.clientCredentialsGrant(ownerConfig)

      assert.deepEqual({ ...(await oidc.tokenIntrospection(otherConfig, access_token)) }, { active: false })
      const seen = await oidc.tokenIntrospection(rsConfig, access_token)
      assert.equal(seen.active, true)
      assert.equal(seen.client_id, owner.id)
    })

    test("a disabled client's tokens are inactive", async () => {
      const owner = await server.createClient()
      const resourceServer = await server.createClient({ introspect: true })
      const ownerConfig = await discover(server, owner.id, oidc.ClientSecretBasic(owner.secret))
      const rsConfig = await discover(
        server,
        resourceServer.id,
        oidc.ClientSecretBasic(resourceServer.secret),
      )
      const { access_token } = await oidc.clientCredentialsGrant(ownerConfig)
      assert.equal((await oidc.tokenIntrospection(rsConfig, access_token)).active, true)

      await server.admin.clients.setEnabled(owner.id, false)
      await waitForFeed()
      assert.deepEqual({ ...(await oidc.tokenIntrospection(rsConfig, access_token)) }, { active: false })
    })

    test('refresh tokens introspect as refresh_token, and revoking one kills it', async () => {
      const client = await server.createClient({ grants: ['client_credentials', 'refresh_token'] })
      const res = await server.form('/amsu-analysis/v2/token', {
        client_id: client.id,
        client_secret: client.secret,
      })
      assert.equal(res.status, 200)
      const { refresh_token } = await json(res)
      assert.equal(typeof refresh_token, 'string')

      const config = await discover(server, client.id, oidc.ClientSecretBasic(client.secret))
      const live = await oidc.tokenIntrospection(config, refresh_token, { token_type_hint: 'refresh_token' })
      assert.equal(live.active, true)
      assert.equal(live.token_type, 'refresh_token')
      assert.equal(live.client_id, client.id)
      assert.equal(live.iss, server.issuer)

      await oidc.tokenRevocation(config, refresh_token, { token_type_hint: 'refresh_token' })
      assert.deepEqual({ ...(await oidc.tokenIntrospection(config, refresh_token)) }, { active: false })
    })
  })

  test('tokens issued before and after a key rotation both verify through the JWKS', async () => {
    const config = await discover(server, secretClient.id, oidc.ClientSecretBasic(secretClient.secret))
    const before = (await oidc.clientCredentialsGrant(config)).access_token
    const next = await server.admin.keys.rotate({ now: true })
    await waitForFeed()
    const afterRotation = (await oidc.clientCredentialsGrant(config)).access_token

    assert.equal(decodeJwtPart(afterRotation, 0).kid, next.kid)
    assert.notEqual(decodeJwtPart(before, 0).kid, next.kid)
    await verifyAccessToken(server, before)
    await verifyAccessToken(server, afterRotation)
    // The server still recognises both as its own.
    assert.equal((await oidc.tokenIntrospection(config, before)).active, true)
    assert.equal((await oidc.tokenIntrospection(config, afterRotation)).active, true)
  })
})
