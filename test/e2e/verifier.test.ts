/*
 * The verifier (@gatehouse/verify) against a real Gatehouse: tokens got over HTTP from the token
 * endpoints, keys found through the server's discovery, rotation with `keys rotate --now`, the
 * server stopped under a verifier, and the middleware in node:http and fastify.
 */
import assert from 'node:assert/strict'
import { createHmac, createPublicKey, type JsonWebKey } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import {
  type AuthenticatedRequest,
  bearerAuth,
  createVerifier,
  fastifyBearerAuth,
  type VerifiedToken,
  type VerifierOptions,
  VerifyError,
} from '@gatehouse/verify'
import Fastify from 'fastify'
import { createChild, createServiceKey, NO_RATE_LIMIT, waitForChangeFeed } from './dialects-fixtures.ts'
import { decodeJwtPart, json, startTestServer, type TestServer } from './harness.ts'

declare module 'fastify' {
  interface FastifyRequest {
    auth?: VerifiedToken
  }
}

type Credentials = { id: string; secret: string }

async function accessToken(server: TestServer, client: Credentials, scope?: string): Promise<string> {
  const fields: Record<string, string> = { grant_type: 'client_credentials' }
  if (scope) fields.scope = scope
  const res = await server.form('/oauth/token', fields, { auth: [client.id, client.secret] })
  const body = await json(res)
  assert.equal(res.status, 200, JSON.stringify(body))
  return body.access_token
}

async function refusal(promise: Promise<unknown>): Promise<VerifyError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof VerifyError) return error
    throw error
  }
  assert.fail('accepted')
}

async function assertRefused(promise: Promise<unknown>, code: string): Promise<VerifyError> {
  const error = await refusal(promise)
  assert.equal(error.code, code, error.description)
  return error
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

for (const algorithm of ['RS256', 'ES256', 'EdDSA'] as const) {
  test(`${algorithm}: a Gatehouse token verifies through discovery, with its RFC 9068 claims`, async () => {
    const server = await startTestServer({ tokens: { algorithm } })
    try {
      const client = await server.createClient({ scopes: ['prices.read', 'prices.write'] })
      const token = await accessToken(server, client)
      assert.equal(decodeJwtPart(token, 0).alg, algorithm)
      // No jwksUri: the verifier reads it from the server's RFC 8414 metadata.
      const verifier = createVerifier({ issuer: server.issuer, audience: server.issuer })
      const auth = await verifier.verify(token, { scope: 'prices.write' })
      assert.equal(auth.sub, client.id)
      assert.equal(auth.clientId, client.id)
      assert.deepEqual(auth.scopes, ['prices.read', 'prices.write'])
      assert.deepEqual(auth.aud, [server.issuer])
      assert.equal(auth.exp - auth.iat, 3600)
      assert.equal(auth.jti, decodeJwtPart(token, 1).jti)
      // Only its configured algorithm: a verifier pinned to another refuses the token.
      const other = algorithm === 'RS256' ? 'ES256' : 'RS256'
      const pinned = createVerifier({ issuer: server.issuer, audience: server.issuer, algorithms: [other] })
      await assertRefused(pinned.verify(token), 'invalid_token')
    } finally {
      await server.stop()
    }
  })
}

describe('verifying Gatehouse tokens (RS256)', () => {
  let server: TestServer
  let client: Credentials
  let token: string
  let options: VerifierOptions

  before(async () => {
    server = await startTestServer(NO_RATE_LIMIT)
    client = await server.createClient({
      scopes: ['prices.read', 'prices.write'],
      grants: ['client_credentials', 'servicekey', 'csp_credentials'],
    })
    token = await accessToken(server, client, 'prices.read')
    options = {
      issuer: server.issuer,
      audience: server.issuer,
      jwksUri: `${server.url}/.well-known/jwks.json`,
    }
  })
  after(() => server.stop())

  test('another issuer or another audience is invalid_token', async () => {
    await createVerifier(options).verify(token)
    await assertRefused(
      createVerifier({ ...options, issuer: 'https://auth.example.com' }).verify(token),
      'invalid_token',
    )
    await assertRefused(
      createVerifier({ ...options, issuer: `${server.issuer}/` }).verify(token),
      'invalid_token',
    )
    const error = await assertRefused(
      createVerifier({ ...options, audience: 'https://api.example.com/prices' }).verify(token),
      'invalid_token',
    )
    assert.match(error.description, /aud/)
  })

  test('an expired token is invalid_token', async () => {
    const { exp } = decodeJwtPart(token, 1) as { exp: number }
    const at = (seconds: number) => createVerifier({ ...options, clock: { now: () => seconds * 1000 } })
    await at(exp + 4).verify(token)
    const error = await assertRefused(at(exp + 6).verify(token), 'invalid_token')
    assert.match(error.description, /expired/)
  })

  test('a tampered token is invalid_token: payload, signature, header', async () => {
    const verifier = createVerifier(options)
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const claims = decodeJwtPart(token, 1)
    const swapped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`
    for (const forged of [
      `${header}.${b64({ ...claims, scope: 'prices.read prices.write' })}.${signature}`,
      `${header}.${b64({ ...claims, exp: (claims.exp as number) + 86400 })}.${signature}`,
      `${header}.${payload}.${swapped}`,
      `${b64({ ...decodeJwtPart(token, 0), kid: 'other' })}.${payload}.${signature}`,
    ]) {
      await assertRefused(verifier.verify(forged), 'invalid_token')
    }
  })

  test('alg none, and HS256 keyed with the published public key, are refused', async () => {
    const verifier = createVerifier(options)
    const claims = decodeJwtPart(token, 1)
    const { kid } = decodeJwtPart(token, 0)
    await assertRefused(
      verifier.verify(`${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`),
      'invalid_token',
    )
    const jwks = await json(await fetch(`${server.url}/.well-known/jwks.json`))
    const jwk = jwks.keys.find((k: { kid: string }) => k.kid === kid) as JsonWebKey
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
    for (const secret of [pem, JSON.stringify(jwk), jwk.n ?? '']) {
      const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid })}.${b64(claims)}`
      const mac = createHmac('sha256', secret).update(input).digest('base64url')
      const error = await assertRefused(verifier.verify(`${input}.${mac}`), 'invalid_token')
      assert.match(error.description, /algorithm/)
    }
  })

  test('a missing scope is insufficient_scope, 403, with the scope in the challenge', async () => {
    const verifier = createVerifier(options)
    const error = await assertRefused(verifier.verify(token, { scope: 'prices.write' }), 'insufficient_scope')
    assert.equal(error.status, 403)
    assert.equal(
      error.wwwAuthenticate('prices'),
      'Bearer realm="prices", error="insufficient_scope", error_description="The access token lacks the scope prices.write.", scope="prices.write"',
    )
    const both = await accessToken(server, client)
    await verifier.verify(both, { scope: 'prices.write' })
  })

  test("an API's identifier is the aud of its scopes' tokens", async () => {
    const identifier = 'https://api.example.com/reports'
    await server.admin.apis.create({ identifier, scopes: ['reports.read'] })
    const reporter = await server.createClient({ scopes: ['reports.read'] })
    await waitForChangeFeed()
    const report = await accessToken(server, reporter)
    const auth = await createVerifier({ ...options, audience: identifier }).verify(report, {
      scope: 'reports.read',
    })
    assert.deepEqual(auth.aud, [identifier])
    await assertRefused(createVerifier(options).verify(report), 'invalid_token')
  })

  test('a service-key token: sub is the service name', async () => {
    const key = await createServiceKey(server, { clientId: client.id, serviceName: 'billing' })
    const res = await server.form('/connect/token', {
      grant_type: 'servicekey',
      client_id: client.id,
      client_secret: client.secret,
      scope: 'prices.read',
      serviceName: key.serviceName,
      serviceKey: key.serviceKey,
    })
    assert.equal(res.status, 200)
    const auth = await createVerifier(options).verify((await json(res)).access_token)
    assert.equal(auth.sub, 'billing')
    assert.equal(auth.clientId, client.id)
  })

  test('a child-credential token: sub is the child, act names the parent client (RFC 8693 §4.1)', async () => {
    const child = await createChild(server, client.id, 'customer one')
    const res = await server.form('/oauth/token', {
      grant_type: 'csp_credentials',
      client_id: client.id,
      client_secret: client.secret,
      child_key: child.childKey,
      child_secret: child.childSecret,
    })
    assert.equal(res.status, 200)
    const auth = await createVerifier(options).verify((await json(res)).access_token)
    assert.equal(auth.sub, child.childKey)
    assert.equal(auth.clientId, client.id)
    assert.deepEqual(auth.act, { sub: client.id })
  })
})

test('tokens.typ JWT: refused by default, accepted when the verifier allows JWT', async () => {
  const server = await startTestServer({ tokens: { typ: 'JWT' } })
  try {
    const token = await accessToken(server, await server.createClient())
    assert.equal(decodeJwtPart(token, 0).typ, 'JWT')
    const strict = createVerifier({ issuer: server.issuer, audience: server.issuer })
    const error = await assertRefused(strict.verify(token), 'invalid_token')
    assert.match(error.description, /typ/)
    const lenient = createVerifier({ issuer: server.issuer, audience: server.issuer, typ: ['at+jwt', 'JWT'] })
    assert.equal((await lenient.verify(token)).scopes[0], 'prices.read')
  } finally {
    await server.stop()
  }
})

test('keys rotate --now: the new kid is fetched and verifies, and old tokens still do', async () => {
  const server = await startTestServer()
  try {
    const client = await server.createClient()
    const before = await accessToken(server, client)
    let jwksFetches = 0
    const verifier = createVerifier({
      issuer: server.issuer,
      audience: server.issuer,
      jwksCooldown: 0,
      fetch: (url, init) => {
        if (url.endsWith('/jwks.json')) jwksFetches++
        return fetch(url, init)
      },
    })
    await verifier.verify(before)
    assert.equal(jwksFetches, 1)
    const next = await server.admin.keys.rotate({ now: true })
    await waitForChangeFeed()
    const afterRotation = await accessToken(server, client)
    assert.equal(decodeJwtPart(afterRotation, 0).kid, next.kid)
    await verifier.verify(afterRotation)
    assert.equal(jwksFetches, 2, 'the unknown kid fetched the keys once more')
    await verifier.verify(before)
    await verifier.verify(afterRotation)
    assert.equal(jwksFetches, 2)
  } finally {
    await server.stop()
  }
})

test('the server down: a verifier without keys answers 503 (not 401); one with keys goes on', async () => {
  const server = await startTestServer()
  const client = await server.createClient()
  const token = await accessToken(server, client)
  const warm = createVerifier({ issuer: server.issuer, audience: server.issuer })
  await warm.prefetch()
  await server.stop()

  const cold = createVerifier({ issuer: server.issuer, audience: server.issuer, timeout: 2 })
  const error = await assertRefused(cold.verify(token), 'temporarily_unavailable')
  assert.equal(error.status, 503)
  assert.equal((await warm.verify(token)).clientId, client.id)
})

describe('middleware with Gatehouse tokens', () => {
  let server: TestServer
  let token: string
  const urls: Record<string, string> = {}
  const closers: (() => Promise<unknown>)[] = []

  before(async () => {
    server = await startTestServer()
    token = await accessToken(server, await server.createClient())
    const verifier = createVerifier({ issuer: server.issuer, audience: server.issuer, realm: 'prices' })

    const read = bearerAuth(verifier, { scope: 'prices.read' })
    const write = bearerAuth(verifier, { scope: 'prices.write' })
    const http = createServer((req, res) => {
      const middleware = req.url === '/write' ? write : read
      void middleware(req, res, (error) => {
        res.writeHead(error ? 500 : 200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ client: (req as AuthenticatedRequest).auth?.clientId }))
      })
    })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    urls.http = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
    closers.push(() => new Promise((resolve) => http.close(resolve)))

    const app = Fastify()
    app.decorateRequest('auth', undefined)
    const handler = async (request: { auth?: VerifiedToken }) => ({ client: request.auth?.clientId })
    app.get('/read', { onRequest: fastifyBearerAuth(verifier, { scope: 'prices.read' }) }, handler)
    app.get('/write', { onRequest: fastifyBearerAuth(verifier, { scope: 'prices.write' }) }, handler)
    urls.fastify = await app.listen({ port: 0, host: '127.0.0.1' })
    closers.push(() => app.close())
  })
  after(async () => {
    await Promise.all(closers.map((close) => close()))
    await server.stop()
  })

  for (const framework of ['http', 'fastify']) {
    test(`${framework}: 200 with the token, 401 without (no error code), 400 malformed, 403 short of scope`, async () => {
      const get = (path: string, authorization?: string) =>
        fetch(`${urls[framework]}${path}`, { headers: authorization ? { authorization } : {} })

      const ok = await get('/read', `Bearer ${token}`)
      assert.equal(ok.status, 200)
      assert.equal((await json(ok)).client, decodeJwtPart(token, 1).client_id)

      const missing = await get('/read')
      assert.equal(missing.status, 401)
      assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="prices"')
      assert.deepEqual(await json(missing), {})

      const malformed = await get('/read', `Bearer ${token} ${token}`)
      assert.equal(malformed.status, 400)
      assert.equal((await json(malformed)).error, 'invalid_request')

      const lowercase = await get('/read', `bearer ${token}`)
      assert.equal(lowercase.status, 200, 'the scheme is case-insensitive')

      const short = await get('/write', `Bearer ${token}`)
      assert.equal(short.status, 403)
      assert.match(
        short.headers.get('www-authenticate') ?? '',
        /error="insufficient_scope".*scope="prices.write"/,
      )
      assert.deepEqual(Object.keys(await json(short)).sort(), ['error', 'error_description'])
    })
  }
})
