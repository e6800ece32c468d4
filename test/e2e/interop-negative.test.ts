/*
 * The error paths of private_key_jwt client authentication (RFC 7523 §3), introspection
 * (RFC 7662) and revocation (RFC 7009), at the raw HTTP level: status codes, RFC 6749 §5.2
 * error codes, and introspection answers that say nothing but `{"active": false}`.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { SignJWT, UnsecuredJWT } from 'jose'
import { json, startTestServer, type TestServer } from './harness.ts'
import {
  assertionFields,
  clientKey,
  createKeyClient,
  foreignToken,
  type KeyClient,
  NO_RATE_LIMIT,
  serveJwks,
  signAssertion,
  sleep,
  tamper,
  waitForFeed,
} from './interop-fixtures.ts'

const TOKEN = '/oauth/token'
const INTROSPECT = '/oauth/introspect'
const REVOKE = '/oauth/revoke'
const CC = { grant_type: 'client_credentials' }

type Secret = { id: string; secret: string }

async function assertError(res: Response, status: number, code: string): Promise<void> {
  const body = await json(res)
  assert.equal(res.status, status, `status ${res.status}, body ${JSON.stringify(body)}`)
  assert.equal(body.error, code)
  assert.equal(res.headers.get('cache-control'), 'no-store')
}

async function assertInactive(res: Response): Promise<void> {
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  assert.deepEqual(await json(res), { active: false })
}

describe('negative paths', () => {
  let server: TestServer
  let keyClient: KeyClient
  let other: KeyClient
  let secretClient: Secret

  before(async () => {
    server = await startTestServer(NO_RATE_LIMIT)
    keyClient = await createKeyClient(server, { alg: 'ES256' })
    other = await createKeyClient(server, { alg: 'RS256' })
    secretClient = await server.createClient()
  })
  after(() => server.stop())

  /** A valid assertion for `client` unless `claims` says otherwise. */
  const assertion = (client: KeyClient, claims: Record<string, unknown> = {}) =>
    signAssertion(client.key, client.id, server.issuer, claims)

  const tokenWith = async (client: KeyClient, claims: Record<string, unknown> = {}) =>
    server.form(TOKEN, { ...CC, ...assertionFields(await assertion(client, claims)) })

  async function accessToken(client: Secret): Promise<string> {
    const res = await server.form(TOKEN, CC, { auth: [client.id, client.secret] })
    assert.equal(res.status, 200)
    return (await json(res)).access_token
  }

  const introspect = (client: Secret, token: string) =>
    server.form(INTROSPECT, { token }, { auth: [client.id, client.secret] })

  describe('private_key_jwt: client assertions', () => {
    test('the baseline: a valid assertion gets a token, with aud the issuer or the endpoint URL', async () => {
      assert.equal((await tokenWith(keyClient)).status, 200)
      assert.equal((await tokenWith(keyClient, { aud: `${server.issuer}${TOKEN}` })).status, 200)
      assert.equal(
        (await tokenWith(keyClient, { aud: ['https://elsewhere.example', server.issuer] })).status,
        200,
      )
      // client_id may accompany the assertion when it names the same client.
      const jwt = await assertion(keyClient)
      const res = await server.form(TOKEN, { ...CC, client_id: keyClient.id, ...assertionFields(jwt) })
      assert.equal(res.status, 200)
    })

    test('at introspection and revocation, aud may be that endpoint URL', async () => {
      const token = await accessToken(secretClient)
      const auth = async (path: string) =>
        assertionFields(await assertion(keyClient, { aud: `${server.issuer}${path}` }))
      await assertInactive(await server.form(INTROSPECT, { token, ...(await auth(INTROSPECT)) }))
      assert.equal((await server.form(REVOKE, { token: 'unknown', ...(await auth(REVOKE)) })).status, 200)
    })

    test('a replayed assertion (same jti) is refused: 401 invalid_client', async () => {
      const jwt = await assertion(keyClient)
      const fields = { ...CC, ...assertionFields(jwt) }
      assert.equal((await server.form(TOKEN, fields)).status, 200)
      await assertError(await server.form(TOKEN, fields), 401, 'invalid_client')
    })

    test('a new assertion reusing a spent jti is refused', async () => {
      const jti = randomUUID()
      assert.equal((await tokenWith(keyClient, { jti })).status, 200)
      const now = Math.floor(Date.now() / 1000)
      await assertError(
        await tokenWith(keyClient, { jti, iat: now - 1, exp: now + 30 }),
        401,
        'invalid_client',
      )
    })

    test('the same assertion sent ten times at once is accepted exactly once', async () => {
      const fields = { ...CC, ...assertionFields(await assertion(keyClient)) }
      const answers = await Promise.all(Array.from({ length: 10 }, () => server.form(TOKEN, fields)))
      const statuses = answers.map((r) => r.status).sort()
      await Promise.all(answers.map((r) => r.body?.cancel()))
      assert.deepEqual(statuses, [200, ...Array(9).fill(401)])
    })

    test('an assertion spent at the token endpoint cannot be replayed at introspection or revocation', async () => {
      const jwt = await assertion(keyClient)
      assert.equal((await server.form(TOKEN, { ...CC, ...assertionFields(jwt) })).status, 200)
      await assertError(
        await server.form(INTROSPECT, { token: 'x', ...assertionFields(jwt) }),
        401,
        'invalid_client',
      )
      await assertError(
        await server.form(REVOKE, { token: 'x', ...assertionFields(jwt) }),
        401,
        'invalid_client',
      )
    })

    for (const [what, aud] of [
      ['another audience', 'https://elsewhere.example'],
      ['an audience that only starts like the issuer', `${'ISSUER'}.evil.example`],
      ['an audience that extends the issuer', `${'ISSUER'}0`],
      ['an empty audience list', []],
    ] as const) {
      test(`an assertion for ${what} is refused: 401 invalid_client`, async () => {
        const audience = typeof aud === 'string' ? aud.replace('ISSUER', server.issuer) : aud
        await assertError(await tokenWith(keyClient, { aud: audience }), 401, 'invalid_client')
      })
    }

    test('an expired assertion is refused: 401 invalid_client', async () => {
      const now = Math.floor(Date.now() / 1000)
      await assertError(await tokenWith(keyClient, { iat: now - 600, exp: now - 60 }), 401, 'invalid_client')
    })

    test('an assertion valid for more than an hour is refused', async () => {
      const now = Math.floor(Date.now() / 1000)
      await assertError(await tokenWith(keyClient, { exp: now + 7200 }), 401, 'invalid_client')
    })

    test('an assertion without exp, or without jti, is refused', async () => {
      await assertError(await tokenWith(keyClient, { exp: null }), 401, 'invalid_client')
      await assertError(await tokenWith(keyClient, { jti: null }), 401, 'invalid_client')
    })

    test('an assertion whose aud or jti is not a string is refused, not a server error', async () => {
      for (const claims of [
        { aud: [123] },
        { aud: { a: 1 } },
        { aud: [null, 'x'] },
        { jti: 42 },
        { jti: ['j'] },
      ]) {
        await assertError(await tokenWith(keyClient, claims), 401, 'invalid_client')
      }
    })

    test('an assertion signed by a key that is not registered is refused', async () => {
      const stranger = await clientKey('ES256')
      // Same kid as the registered key, different key material.
      const jwt = await signAssertion({ ...stranger, kid: keyClient.key.kid }, keyClient.id, server.issuer)
      await assertError(await server.form(TOKEN, { ...CC, ...assertionFields(jwt) }), 401, 'invalid_client')
    })

    test('an unsigned assertion (alg none) is refused', async () => {
      const now = Math.floor(Date.now() / 1000)
      const jwt = new UnsecuredJWT({ jti: randomUUID() })
        .setIssuer(keyClient.id)
        .setSubject(keyClient.id)
        .setAudience(server.issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .encode()
      await assertError(await server.form(TOKEN, { ...CC, ...assertionFields(jwt) }), 401, 'invalid_client')
    })

    test('an assertion with iss ≠ sub is refused', async () => {
      await assertError(await tokenWith(keyClient, { iss: other.id }), 401, 'invalid_client')
      await assertError(await tokenWith(keyClient, { iss: 'someone-else' }), 401, 'invalid_client')
    })

    test('an assertion whose sub (and iss) name another client is refused', async () => {
      // Signed with keyClient's key, claiming to be `other` (a key client) or a secret client.
      for (const victim of [other.id, secretClient.id, 'no-such-client']) {
        const jwt = await signAssertion(keyClient.key, victim, server.issuer)
        await assertError(await server.form(TOKEN, { ...CC, ...assertionFields(jwt) }), 401, 'invalid_client')
      }
    })

    test('client_id naming another client than the assertion is a malformed request', async () => {
      const jwt = await assertion(keyClient)
      const res = await server.form(TOKEN, { ...CC, client_id: other.id, ...assertionFields(jwt) })
      await assertError(res, 400, 'invalid_request')
    })

    test('an assertion together with another authentication method is a malformed request', async () => {
      const jwt = await assertion(keyClient)
      await assertError(
        await server.form(
          TOKEN,
          { ...CC, ...assertionFields(jwt) },
          { auth: [secretClient.id, secretClient.secret] },
        ),
        400,
        'invalid_request',
      )
    })

    test('a wrong client_assertion_type, or an assertion that is not a JWT, is a malformed request', async () => {
      const jwt = await assertion(keyClient)
      await assertError(
        await server.form(TOKEN, {
          ...CC,
          client_assertion_type: 'urn:example:other',
          client_assertion: jwt,
        }),
        400,
        'invalid_request',
      )
      await assertError(
        await server.form(TOKEN, { ...CC, ...assertionFields('not-a-jwt') }),
        400,
        'invalid_request',
      )
    })

    test('client_secret_jwt (HS256 keyed with the secret) is not accepted: 401 invalid_client', async () => {
      const now = Math.floor(Date.now() / 1000)
      const jwt = await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(secretClient.id)
        .setSubject(secretClient.id)
        .setAudience(server.issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(new TextEncoder().encode(secretClient.secret))
      await assertError(await server.form(TOKEN, { ...CC, ...assertionFields(jwt) }), 401, 'invalid_client')
    })

    test('a secret client cannot authenticate with an assertion', async () => {
      const key = await clientKey('ES256')
      const jwt = await signAssertion(key, secretClient.id, server.issuer)
      await assertError(await server.form(TOKEN, { ...CC, ...assertionFields(jwt) }), 401, 'invalid_client')
    })

    test('a jwks_uri client: a key not in its published set is refused, even after a refetch', async () => {
      const published = await clientKey('ES256')
      const host = await serveJwks({ keys: [published.publicJwk] })
      try {
        const { id } = await server.createClient({ jwksUri: host.url })
        const good = await signAssertion(published, id, server.issuer)
        assert.equal((await server.form(TOKEN, { ...CC, ...assertionFields(good) })).status, 200)
        const stranger = await clientKey('ES256')
        const bad = await signAssertion(stranger, id, server.issuer)
        await assertError(await server.form(TOKEN, { ...CC, ...assertionFields(bad) }), 401, 'invalid_client')
      } finally {
        await host.close()
      }
    })

    test('a jwks_uri that cannot be fetched, or serves no key set, fails closed: 401, never 5xx', async () => {
      const key = await clientKey('ES256')
      const host = await serveJwks({ keys: [key.publicJwk] })
      const dead = host.url
      await host.close()
      const unreachable = await server.createClient({ jwksUri: dead })
      const notFound = await server.createClient({ jwksUri: dead.replace('/jwks.json', '/nothing-here') })
      for (const { id } of [unreachable, notFound]) {
        const jwt = await signAssertion(key, id, server.issuer)
        await assertError(await server.form(TOKEN, { ...CC, ...assertionFields(jwt) }), 401, 'invalid_client')
      }
    })

    test('a jwks_uri that answers without end is read only to 256 KiB, and fails closed', async () => {
      // Up to 64 MiB of a key set that never closes its array, sent as fast as it is read.
      let sent = 0
      const endless = createServer(async (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' })
        const chunk = Buffer.from(`{"keys":[${'{"kty":"EC"},'.repeat(5000)}`)
        while (sent < 64 * 1024 * 1024 && !response.destroyed) {
          sent += chunk.length
          if (!response.write(chunk)) await once(response, 'drain').catch(() => {})
        }
        response.end()
      })
      await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve))
      try {
        const { port } = endless.address() as AddressInfo
        const { id } = await server.createClient({ jwksUri: `http://127.0.0.1:${port}/jwks.json` })
        const jwt = await signAssertion(await clientKey('ES256'), id, server.issuer)
        await assertError(await server.form(TOKEN, { ...CC, ...assertionFields(jwt) }), 401, 'invalid_client')
        // What the sockets' buffers took beyond the limit, at most a few MiB; without the limit, all 64.
        assert.ok(sent < 16 * 1024 * 1024, `${sent} bytes sent`)
      } finally {
        endless.closeAllConnections()
        await new Promise((resolve) => endless.close(resolve))
      }
    })

    test('a disabled key client cannot authenticate', async () => {
      const client = await createKeyClient(server)
      assert.equal((await tokenWith(client)).status, 200)
      await server.admin.clients.setEnabled(client.id, false)
      await waitForFeed()
      await assertError(await tokenWith(client), 401, 'invalid_client')
    })
  })

  describe('revocation (RFC 7009)', () => {
    test("revoking another client's access token is refused (400 invalid_request) and the token stays active", async () => {
      const token = await accessToken(secretClient)
      const thief = await server.createClient()
      await assertError(
        await server.form(REVOKE, { token }, { auth: [thief.id, thief.secret] }),
        400,
        'invalid_request',
      )
      // The same with private_key_jwt.
      await assertError(
        await server.form(REVOKE, { token, ...assertionFields(await assertion(other)) }),
        400,
        'invalid_request',
      )
      const res = await introspect(secretClient, token)
      assert.equal(res.status, 200)
      assert.equal((await json(res)).active, true)
    })

    test("revoking another client's refresh token is refused and the token stays active", async () => {
      const owner = await server.createClient({ grants: ['client_credentials', 'refresh_token'] })
      const res = await server.form('/amsu-analysis/v2/token', {
        client_id: owner.id,
        client_secret: owner.secret,
      })
      assert.equal(res.status, 200)
      const { refresh_token } = await json(res)
      await assertError(
        await server.form(REVOKE, { token: refresh_token }, { auth: [secretClient.id, secretClient.secret] }),
        400,
        'invalid_request',
      )
      const live = await json(await introspect(owner, refresh_token))
      assert.equal(live.active, true)
      assert.equal(live.token_type, 'refresh_token')
    })

    test('revoking a refresh token kills its whole family, spent members included', async () => {
      const owner = await server.createClient({ grants: ['client_credentials', 'refresh_token'] })
      const auth: [string, string] = [owner.id, owner.secret]
      const issued = await server.form('/amsu-analysis/v2/token', {
        client_id: owner.id,
        client_secret: owner.secret,
      })
      const first = (await json(issued)).refresh_token
      const refreshed = await server.form(
        TOKEN,
        { grant_type: 'refresh_token', refresh_token: first },
        { auth },
      )
      assert.equal(refreshed.status, 200)
      const second = (await json(refreshed)).refresh_token
      assert.equal((await json(await introspect(owner, second))).active, true)

      // Revoking the spent first member takes the live second one with it.
      assert.equal((await server.form(REVOKE, { token: first }, { auth })).status, 200)
      await assertInactive(await introspect(owner, second))
      await assertError(
        await server.form(TOKEN, { grant_type: 'refresh_token', refresh_token: second }, { auth }),
        400,
        'invalid_grant',
      )
    })

    test('revoking its own expired access token is no error: 200', async () => {
      const shortLived = await server.createClient({ tokenTtl: 1 })
      const token = await accessToken(shortLived)
      await sleep(2100)
      const res = await server.form(REVOKE, { token }, { auth: [shortLived.id, shortLived.secret] })
      assert.equal(res.status, 200)
    })

    test('token_type_hint is only a hint: a wrong or unknown hint changes nothing', async () => {
      const auth: [string, string] = [secretClient.id, secretClient.secret]
      const token = await accessToken(secretClient)
      for (const hint of ['refresh_token', 'id_token', 'bogus']) {
        const res = await server.form(INTROSPECT, { token, token_type_hint: hint }, { auth })
        assert.equal(res.status, 200)
        assert.equal((await json(res)).active, true, hint)
      }
      const res = await server.form(REVOKE, { token, token_type_hint: 'refresh_token' }, { auth })
      assert.equal(res.status, 200)
      await assertInactive(await server.form(INTROSPECT, { token }, { auth }))
    })

    test('an unknown or garbage token is no error: 200', async () => {
      for (const token of ['garbage', 'a.b.c', await foreignToken(server, secretClient.id)]) {
        const res = await server.form(REVOKE, { token }, { auth: [secretClient.id, secretClient.secret] })
        assert.equal(res.status, 200, token)
      }
    })

    test('without client authentication: 401 invalid_client', async () => {
      const token = await accessToken(secretClient)
      await assertError(await server.form(REVOKE, { token }), 401, 'invalid_client')
      await assertError(
        await server.form(REVOKE, { token }, { auth: [secretClient.id, 'wrong-secret'] }),
        401,
        'invalid_client',
      )
      assert.equal((await json(await introspect(secretClient, token))).active, true)
    })

    test('a missing token parameter: 400 invalid_request', async () => {
      await assertError(
        await server.form(REVOKE, {}, { auth: [secretClient.id, secretClient.secret] }),
        400,
        'invalid_request',
      )
    })

    test('a public client cannot revoke: 401 invalid_client', async () => {
      const pub = await server.createClient({ isPublic: true, grants: ['servicekey'] })
      await assertError(await server.form(REVOKE, { token: 'x', client_id: pub.id }), 401, 'invalid_client')
    })
  })

  describe('introspection (RFC 7662)', () => {
    test('without client authentication: 401 invalid_client', async () => {
      const token = await accessToken(secretClient)
      await assertError(await server.form(INTROSPECT, { token }), 401, 'invalid_client')
    })

    test('with a wrong secret: 401 invalid_client, with a Basic challenge when Basic was used', async () => {
      const token = await accessToken(secretClient)
      const res = await server.form(INTROSPECT, { token }, { auth: [secretClient.id, 'wrong-secret'] })
      assert.match(res.headers.get('www-authenticate') ?? '', /^Basic/i)
      await assertError(res, 401, 'invalid_client')
      await assertError(
        await server.form(INTROSPECT, { token, client_id: secretClient.id, client_secret: 'wrong-secret' }),
        401,
        'invalid_client',
      )
    })

    test('a missing token parameter: 400 invalid_request', async () => {
      await assertError(
        await server.form(INTROSPECT, {}, { auth: [secretClient.id, secretClient.secret] }),
        400,
        'invalid_request',
      )
      // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
      await assertError(
        await server.form(INTROSPECT, { token: '' }, { auth: [secretClient.id, secretClient.secret] }),
        400,
        'invalid_request',
      )
      await assertError(
        await server.form(INTROSPECT, { ...assertionFields(await assertion(keyClient)) }),
        400,
        'invalid_request',
      )
    })

    test('a token parameter given twice: 400 invalid_request', async () => {
      const token = await accessToken(secretClient)
      const body = new URLSearchParams([
        ['token', token],
        ['token', token],
      ]).toString()
      await assertError(
        await server.form(INTROSPECT, body, { auth: [secretClient.id, secretClient.secret] }),
        400,
        'invalid_request',
      )
    })

    test('a public client cannot introspect: 401 invalid_client', async () => {
      const pub = await server.createClient({ isPublic: true, grants: ['servicekey'] })
      const token = await accessToken(secretClient)
      await assertError(await server.form(INTROSPECT, { token, client_id: pub.id }), 401, 'invalid_client')
    })

    test('a tampered token is exactly {"active":false}', async () => {
      const token = await accessToken(secretClient)
      await assertInactive(
        await introspect(secretClient, tamper(token, { scope: 'prices.read prices.write' })),
      )
      await assertInactive(await introspect(secretClient, tamper(token, { exp: 4_000_000_000 })))
      // The untouched token is still fine.
      assert.equal((await json(await introspect(secretClient, token))).active, true)
    })

    test('a foreign token (signed by a key the server never had) is exactly {"active":false}', async () => {
      await assertInactive(await introspect(secretClient, await foreignToken(server, secretClient.id)))
    })

    test('malformed tokens are exactly {"active":false}', async () => {
      for (const token of ['garbage', 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.', '...']) {
        await assertInactive(await introspect(secretClient, token))
      }
    })

    test('a valid token spelled another way (whitespace, padding) is exactly {"active":false}', async () => {
      const token = await accessToken(secretClient)
      assert.equal((await json(await introspect(secretClient, token))).active, true)
      for (const spelling of [
        `${token}\n`,
        `${token}==`,
        `${token} `,
        `${token.slice(0, -4)}\t${token.slice(-4)}`,
      ]) {
        await assertInactive(await introspect(secretClient, spelling))
      }
    })

    test('an expired token is exactly {"active":false}', async () => {
      const shortLived = await server.createClient({ tokenTtl: 1 })
      const token = await accessToken(shortLived)
      assert.equal((await json(await introspect(shortLived, token))).active, true)
      await sleep(2100)
      await assertInactive(await introspect(shortLived, token))
    })

    test('a revoked token is exactly {"active":false}', async () => {
      const token = await accessToken(secretClient)
      const res = await server.form(REVOKE, { token }, { auth: [secretClient.id, secretClient.secret] })
      assert.equal(res.status, 200)
      await assertInactive(await introspect(secretClient, token))
    })

    test('another client\'s token is exactly {"active":false} (and with private_key_jwt too)', async () => {
      const token = await accessToken(secretClient)
      const stranger = await server.createClient()
      await assertInactive(await introspect(stranger, token))
      await assertInactive(
        await server.form(INTROSPECT, { token, ...assertionFields(await assertion(other)) }),
      )
    })

    test('a disabled client\'s token is exactly {"active":false} for a resource server', async () => {
      const owner = await server.createClient()
      const resourceServer = await server.createClient({ introspect: true })
      const token = await accessToken(owner)
      assert.equal((await json(await introspect(resourceServer, token))).active, true)
      await server.admin.clients.setEnabled(owner.id, false)
      await waitForFeed()
      await assertInactive(await introspect(resourceServer, token))
    })

    test('a revoked refresh token family is exactly {"active":false}', async () => {
      const owner = await server.createClient({ grants: ['client_credentials', 'refresh_token'] })
      const res = await server.form('/amsu-analysis/v2/token', {
        client_id: owner.id,
        client_secret: owner.secret,
      })
      const { refresh_token } = await json(res)
      const revoke = await server.form(REVOKE, { token: refresh_token }, { auth: [owner.id, owner.secret] })
      assert.equal(revoke.status, 200)
      await assertInactive(await introspect(owner, refresh_token))
    })
  })
})
