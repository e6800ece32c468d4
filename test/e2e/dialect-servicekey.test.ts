/*
 * Seed 000 (Fastmarkets): `POST /connect/token` with grant_type=servicekey, a service name
 * and a service key, form-encoded; answer {access_token, expires_in, token_type: "Bearer"}.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  assertOAuthError,
  createServiceKey,
  disableClient,
  FORM,
  formBody,
  JSON_TYPE,
  lifetime,
  NO_RATE_LIMIT,
  OVERSIZED,
  PATHS,
  send,
  verifyAccessToken,
} from './dialects-fixtures.ts'
import { basic, json, startTestServer, type TestServer } from './harness.ts'

const PATH = PATHS.servicekey
const SEED_SCOPE = 'fastmarkets.physicalprices.api'

describe('seed 000: service-key grant at POST /connect/token', () => {
  let server: TestServer
  /** The seed's public client `service_client` and its service `service_name`. */
  let seedKey: { serviceName: string; serviceKey: string }
  /** A confidential client allowed both servicekey and client_credentials. */
  let confidential: { id: string; secret: string }
  let confidentialKey: { serviceName: string; serviceKey: string }
  /** A second client, whose service keys must not work for the others. */
  let other: { id: string; secret: string }
  let otherKey: { serviceName: string; serviceKey: string }

  before(async () => {
    server = await startTestServer(NO_RATE_LIMIT)
    await server.createClient({
      clientId: 'service_client',
      isPublic: true,
      grants: ['servicekey'],
      scopes: [SEED_SCOPE, 'fastmarkets.other.api'],
    })
    seedKey = await createServiceKey(server, { clientId: 'service_client', serviceName: 'service_name' })
    confidential = await server.createClient({
      grants: ['servicekey', 'client_credentials'],
      scopes: ['prices.read', 'prices.write'],
    })
    confidentialKey = await createServiceKey(server, { clientId: confidential.id, serviceName: 'billing' })
    other = await server.createClient({ isPublic: true, grants: ['servicekey'], scopes: [SEED_SCOPE] })
    otherKey = await createServiceKey(server, { clientId: other.id, serviceName: 'other_service' })
  })
  after(() => server.stop())

  /** The seed's request: the same fields, in the same order, form-encoded. */
  function seedRequest(overrides: Record<string, string | undefined> = {}): string {
    const fields: Record<string, string | undefined> = {
      grant_type: 'servicekey',
      client_id: 'service_client',
      scope: SEED_SCOPE,
      serviceName: seedKey.serviceName,
      serviceKey: seedKey.serviceKey,
      ...overrides,
    }
    return formBody(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined))
  }

  describe('the seed request', () => {
    test('gets the seed answer, field by field', async () => {
      const res = await send(server, PATH, seedRequest(), {
        contentType: 'application/x-www-form-urlencoded',
      })
      const text = await res.text()
      assert.equal(res.status, 200, text)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
      const body = JSON.parse(text)
      // The seed shows access_token, expires_in, token_type in that order; scope follows.
      assert.deepEqual(Object.keys(body), ['access_token', 'expires_in', 'token_type', 'scope'])
      assert.equal(typeof body.access_token, 'string')
      assert.match(body.access_token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
      assert.equal(body.expires_in, 7200)
      assert.equal(Number.isInteger(body.expires_in), true)
      assert.equal(body.token_type, 'Bearer', 'always "Bearer", capitalised as in the seed')
      assert.equal(body.scope, SEED_SCOPE)
    })

    test('the token is an RS256 JWT with a kid, verifiable through the JWKS, naming the service', async () => {
      const res = await send(server, PATH, seedRequest())
      const body = await json(res)
      const { payload, header } = await verifyAccessToken(server, body.access_token)
      assert.equal(header.alg, 'RS256')
      assert.ok(header.kid)
      assert.equal(payload.sub, 'service_name')
      assert.equal(payload.client_id, 'service_client')
      assert.equal(payload.scope, SEED_SCOPE)
      assert.equal(payload.iss, server.issuer)
      assert.equal(lifetime(payload), 7200, 'exp - iat equals expires_in')
      assert.equal(typeof payload.jti, 'string')
    })

    test('a client without scopes gets exactly the seed example keys (scope omitted)', async () => {
      const bare = await server.createClient({ isPublic: true, grants: ['servicekey'], scopes: [] })
      const key = await createServiceKey(server, { clientId: bare.id, serviceName: 'bare_service' })
      const res = await send(
        server,
        PATH,
        formBody({
          grant_type: 'servicekey',
          client_id: bare.id,
          serviceName: key.serviceName,
          serviceKey: key.serviceKey,
        }),
      )
      const body = await json(res)
      assert.equal(res.status, 200)
      assert.deepEqual(Object.keys(body), ['access_token', 'expires_in', 'token_type'])
      assert.equal(body.expires_in, 7200)
      assert.equal(body.token_type, 'Bearer')
    })

    test('a confidential client authenticates with client_secret in the body', async () => {
      const res = await send(
        server,
        PATH,
        formBody({
          grant_type: 'servicekey',
          client_id: confidential.id,
          client_secret: confidential.secret,
          scope: 'prices.read',
          serviceName: confidentialKey.serviceName,
          serviceKey: confidentialKey.serviceKey,
        }),
      )
      const body = await json(res)
      assert.equal(res.status, 200)
      assert.equal(body.scope, 'prices.read')
      const { payload } = await verifyAccessToken(server, body.access_token)
      assert.equal(payload.sub, 'billing')
      assert.equal(payload.client_id, confidential.id)
    })

    test('a confidential client authenticates with HTTP Basic', async () => {
      const res = await send(
        server,
        PATH,
        formBody({
          grant_type: 'servicekey',
          scope: 'prices.read',
          serviceName: confidentialKey.serviceName,
          serviceKey: confidentialKey.serviceKey,
        }),
        { authorization: basic(confidential.id, confidential.secret) },
      )
      assert.equal(res.status, 200)
      const { payload } = await verifyAccessToken(server, (await json(res)).access_token)
      assert.equal(payload.client_id, confidential.id)
      assert.equal(payload.sub, 'billing')
    })

    test('grant_type=client_credentials works here too, with the same answer shape', async () => {
      const res = await send(
        server,
        PATH,
        formBody({
          grant_type: 'client_credentials',
          client_id: confidential.id,
          client_secret: confidential.secret,
          scope: 'prices.write',
        }),
      )
      const text = await res.text()
      assert.equal(res.status, 200, text)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      const body = JSON.parse(text)
      assert.deepEqual(Object.keys(body), ['access_token', 'expires_in', 'token_type', 'scope'])
      assert.equal(body.expires_in, 7200)
      assert.equal(body.token_type, 'Bearer')
      assert.equal(body.scope, 'prices.write')
      const { payload } = await verifyAccessToken(server, body.access_token)
      assert.equal(payload.client_id, confidential.id)
      assert.equal(lifetime(payload), 7200)
    })

    test('the endpoint lifetime is configurable', async () => {
      const custom = await startTestServer({ endpoints: { servicekey: { tokenTtl: 600 } } })
      try {
        await custom.createClient({ clientId: 'service_client', isPublic: true, grants: ['servicekey'] })
        const key = await createServiceKey(custom, {
          clientId: 'service_client',
          serviceName: 'service_name',
        })
        const res = await send(
          custom,
          PATH,
          formBody({
            grant_type: 'servicekey',
            client_id: 'service_client',
            serviceName: key.serviceName,
            serviceKey: key.serviceKey,
          }),
        )
        const body = await json(res)
        assert.equal(res.status, 200)
        assert.equal(body.expires_in, 600)
        assert.equal(lifetime((await verifyAccessToken(custom, body.access_token)).payload), 600)
      } finally {
        await custom.stop()
      }
    })
  })

  describe('errors (RFC 6749 §5.2)', () => {
    test('wrong serviceKey: 400 invalid_grant', async () => {
      const res = await send(server, PATH, seedRequest({ serviceKey: `${seedKey.serviceKey}x` }))
      await assertOAuthError(res, 400, 'invalid_grant')
    })

    test('unknown serviceName: 400 invalid_grant', async () => {
      const res = await send(server, PATH, seedRequest({ serviceName: 'no_such_service' }))
      await assertOAuthError(res, 400, 'invalid_grant')
    })

    test("another client's service name and key: 400 invalid_grant", async () => {
      const res = await send(
        server,
        PATH,
        seedRequest({ serviceName: otherKey.serviceName, serviceKey: otherKey.serviceKey }),
      )
      await assertOAuthError(res, 400, 'invalid_grant')
    })

    test('the key of one service with the name of another: 400 invalid_grant', async () => {
      const res = await send(server, PATH, seedRequest({ serviceKey: otherKey.serviceKey }))
      await assertOAuthError(res, 400, 'invalid_grant')
    })

    test('missing serviceName: 400 invalid_request', async () => {
      const res = await send(server, PATH, seedRequest({ serviceName: undefined }))
      await assertOAuthError(res, 400, 'invalid_request')
    })

    test('missing serviceKey: 400 invalid_request', async () => {
      const res = await send(server, PATH, seedRequest({ serviceKey: undefined }))
      await assertOAuthError(res, 400, 'invalid_request')
    })

    test('empty serviceKey: 400 (invalid_request or invalid_grant, never a token)', async () => {
      const res = await send(server, PATH, seedRequest({ serviceKey: '' }))
      assert.equal(res.status, 400)
      assert.ok(['invalid_request', 'invalid_grant'].includes((await json(res)).error))
    })

    test('serviceKey given twice: 400 invalid_request', async () => {
      const res = await send(
        server,
        PATH,
        `${seedRequest()}&serviceKey=${encodeURIComponent(seedKey.serviceKey)}`,
      )
      await assertOAuthError(res, 400, 'invalid_request')
    })

    test('missing grant_type: 400 invalid_request', async () => {
      const res = await send(server, PATH, seedRequest({ grant_type: undefined }))
      await assertOAuthError(res, 400, 'invalid_request')
    })

    test('a scope the client does not have: 400 invalid_scope', async () => {
      const res = await send(server, PATH, seedRequest({ scope: 'fastmarkets.secret.api' }))
      await assertOAuthError(res, 400, 'invalid_scope')
    })

    test('a scope the client has but the service key does not: 400 invalid_scope', async () => {
      const narrow = await createServiceKey(server, {
        clientId: 'service_client',
        serviceName: 'narrow_service',
        scopes: [SEED_SCOPE],
      })
      const ok = await send(
        server,
        PATH,
        seedRequest({ serviceName: narrow.serviceName, serviceKey: narrow.serviceKey }),
      )
      assert.equal(ok.status, 200)
      const res = await send(
        server,
        PATH,
        seedRequest({
          serviceName: narrow.serviceName,
          serviceKey: narrow.serviceKey,
          scope: 'fastmarkets.other.api',
        }),
      )
      await assertOAuthError(res, 400, 'invalid_scope')
    })

    test('a client without the servicekey grant: 400 unauthorized_client', async () => {
      const plain = await server.createClient({ grants: ['client_credentials'] })
      const res = await send(
        server,
        PATH,
        formBody({
          grant_type: 'servicekey',
          client_id: plain.id,
          client_secret: plain.secret,
          serviceName: seedKey.serviceName,
          serviceKey: seedKey.serviceKey,
        }),
      )
      await assertOAuthError(res, 400, 'unauthorized_client')
    })

    test('unknown client: 401 invalid_client', async () => {
      const res = await send(server, PATH, seedRequest({ client_id: 'no_such_client' }))
      await assertOAuthError(res, 401, 'invalid_client')
    })

    test('confidential client with a wrong secret: 401 invalid_client', async () => {
      const res = await send(
        server,
        PATH,
        formBody({
          grant_type: 'servicekey',
          client_id: confidential.id,
          client_secret: `${confidential.secret}x`,
          serviceName: confidentialKey.serviceName,
          serviceKey: confidentialKey.serviceKey,
        }),
      )
      await assertOAuthError(res, 401, 'invalid_client')
    })

    test('confidential client without any secret: 401 invalid_client', async () => {
      const res = await send(
        server,
        PATH,
        formBody({
          grant_type: 'servicekey',
          client_id: confidential.id,
          serviceName: confidentialKey.serviceName,
          serviceKey: confidentialKey.serviceKey,
        }),
      )
      await assertOAuthError(res, 401, 'invalid_client')
    })

    test('an unknown client and a wrong secret get the same answer', async () => {
      const unknown = await send(
        server,
        PATH,
        formBody({ grant_type: 'servicekey', client_id: 'nobody', client_secret: 'whatever-secret' }),
      )
      const wrong = await send(
        server,
        PATH,
        formBody({ grant_type: 'servicekey', client_id: confidential.id, client_secret: 'whatever-secret' }),
      )
      assert.equal(unknown.status, wrong.status)
      assert.deepEqual(await json(unknown), await json(wrong))
    })

    test('disabled client (public, with a valid service key): 401 invalid_client', async () => {
      const doomed = await server.createClient({
        isPublic: true,
        grants: ['servicekey'],
        scopes: [SEED_SCOPE],
      })
      const key = await createServiceKey(server, { clientId: doomed.id, serviceName: 'doomed_service' })
      const fields = {
        grant_type: 'servicekey',
        client_id: doomed.id,
        scope: SEED_SCOPE,
        serviceName: key.serviceName,
        serviceKey: key.serviceKey,
      }
      assert.equal((await send(server, PATH, formBody(fields))).status, 200)
      await disableClient(server, doomed.id)
      await assertOAuthError(await send(server, PATH, formBody(fields)), 401, 'invalid_client')
    })

    test('csp_credentials is not served here: 400 unsupported_grant_type', async () => {
      const res = await send(
        server,
        PATH,
        formBody({
          grant_type: 'csp_credentials',
          client_id: confidential.id,
          client_secret: confidential.secret,
          child_key: 'k',
          child_secret: 's',
        }),
      )
      await assertOAuthError(res, 400, 'unsupported_grant_type')
    })

    test('an unknown grant type: 400 unsupported_grant_type', async () => {
      const res = await send(
        server,
        PATH,
        formBody({ grant_type: 'password', client_id: confidential.id, client_secret: confidential.secret }),
      )
      await assertOAuthError(res, 400, 'unsupported_grant_type')
    })

    test('the seed fields as a JSON body: 400 invalid_request', async () => {
      const res = await send(
        server,
        PATH,
        JSON.stringify({
          grant_type: 'servicekey',
          client_id: 'service_client',
          scope: SEED_SCOPE,
          serviceName: seedKey.serviceName,
          serviceKey: seedKey.serviceKey,
        }),
        { contentType: JSON_TYPE },
      )
      await assertOAuthError(res, 400, 'invalid_request')
    })

    test('no content type: 400 invalid_request', async () => {
      const res = await send(server, PATH, seedRequest(), { contentType: undefined })
      await assertOAuthError(res, 400, 'invalid_request')
    })

    test('malformed percent-encoding: 400 invalid_request', async () => {
      const res = await send(server, PATH, `${seedRequest({ scope: undefined })}&scope=%E0%A4%A`)
      await assertOAuthError(res, 400, 'invalid_request')
    })

    test('a body over 64 KiB: 413 in the RFC 6749 format', async () => {
      const res = await send(server, PATH, `${seedRequest()}&pad=${OVERSIZED}`, { contentType: FORM })
      assert.equal(res.status, 413)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assert.equal(typeof (await json(res)).error, 'string')
    })
  })
})
