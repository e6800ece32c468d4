/*
 * Shared helpers for the black-box tests of the four vendor dialects (seeds 000–003).
 * Everything here talks HTTP or the in-process admin the harness exposes; nothing reaches
 * into the server's internals.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose'
import type { TestServer } from './harness.ts'

export const FORM = 'application/x-www-form-urlencoded'
export const JSON_TYPE = 'application/json'

/** Tests that make many failed attempts must not trip the 429 limiter by accident. */
export const NO_RATE_LIMIT = { rateLimit: { failuresPerClient: 1000, failuresPerAddress: 1000 } }

/** The default paths of the contract. */
export const PATHS = {
  oauth2: '/oauth/token',
  servicekey: '/connect/token',
  signature: '/api/TokenAuth/Authenticate',
  refreshBase: '/amsu-analysis/v2',
} as const

/** A body over the 64 KiB limit every endpoint shares. */
export const OVERSIZED = 'a'.repeat(70 * 1024)

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Admin changes to an existing record reach the server through the change feed (~250 ms). */
export function waitForChangeFeed(): Promise<void> {
  return sleep(400)
}

/** Sends `body` as is, with exactly the given content type (none when `contentType` is undefined). */
export function send(
  server: TestServer,
  path: string,
  body: string,
  options: { method?: 'POST' | 'PUT'; contentType?: string | undefined; authorization?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = {}
  const contentType = 'contentType' in options ? options.contentType : FORM
  if (contentType !== undefined) headers['content-type'] = contentType
  if (options.authorization) headers.authorization = options.authorization
  // fetch labels a string body text/plain; bytes go out with no content type at all.
  const payload = contentType === undefined ? new TextEncoder().encode(body) : body
  return fetch(`${server.url}${path}`, { method: options.method ?? 'POST', headers, body: payload })
}

/** A form body in the order the fields are given, as `URLSearchParams` encodes it. */
export function formBody(fields: Record<string, string> | [string, string][]): string {
  return new URLSearchParams(fields).toString()
}

// ---------------------------------------------------------------------------------------
// Seed 001: MD5 signature
// ---------------------------------------------------------------------------------------

/** Upper-case hex MD5 of clientId + time + clientSecret, as the seed's JavaScript and C# build it. */
export function md5Signature(clientId: string, time: number | string, secret: string): string {
  return createHash('md5')
    .update(`${clientId}${String(time)}${secret}`, 'utf8')
    .digest('hex')
    .toUpperCase()
}

/** Unix time in seconds (10 digits), as the seed's code samples compute it: the real clock. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

/*
 * Every accepted (clientId, time, signature) is spent, so two tests that sign within the same
 * second (or millisecond) would see a replay. These clocks never repeat a value. The seconds
 * one runs ahead of the real clock by one second per extra call within a second, so use it
 * only for requests that must be accepted, never to probe the edges of the window.
 */
let lastSeconds = 0
let lastMillis = 0

/** Unix time in seconds, never the same twice (see above). */
export function freshSeconds(): number {
  lastSeconds = Math.max(nowSeconds(), lastSeconds + 1)
  return lastSeconds
}

/** Unix time in milliseconds (13 digits), as the seed's example carries it; never the same twice. */
export function nowMillis(): number {
  lastMillis = Math.max(Date.now(), lastMillis + 1)
  return lastMillis
}

export function postJson(server: TestServer, path: string, body: unknown, contentType = JSON_TYPE) {
  return send(server, path, typeof body === 'string' ? body : JSON.stringify(body), { contentType })
}

/** A signed body for `clientId`, fresh unless `time` is given. */
export function signedBody(
  clientId: string,
  secret: string,
  time: number | string = nowMillis(),
): { clientId: string; time: number | string; signature: string } {
  return { clientId, time, signature: md5Signature(clientId, time, secret) }
}

/** Checks the seed 001 error envelope and that its code repeats the HTTP status. */
export async function assertSignatureError(res: Response, status: number): Promise<void> {
  const text = await res.text()
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text}`)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  const body = JSON.parse(text)
  assert.deepEqual(Object.keys(body).sort(), ['code', 'data', 'msg', 'success'])
  assert.equal(body.code, status)
  assert.equal(body.data, null)
  assert.equal(body.success, false)
  assert.equal(typeof body.msg, 'string')
}

// ---------------------------------------------------------------------------------------
// RFC 6749 errors (seeds 000 and 002)
// ---------------------------------------------------------------------------------------

export async function assertOAuthError(res: Response, status: number, error: string): Promise<void> {
  const text = await res.text()
  assert.equal(res.status, status, `expected ${status} ${error}, got ${res.status}: ${text}`)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  const body = JSON.parse(text)
  assert.equal(body.error, error, `expected ${error}, got ${text}`)
  assert.equal(typeof body.error_description, 'string')
}

// ---------------------------------------------------------------------------------------
// Seed 003: {"error": {"code", "msg"}}
// ---------------------------------------------------------------------------------------

export const AUTHENTICATION_FAILED = {
  error: { code: 'COMMON.AUTHENTICATION_FAILED', msg: 'Incorrect client id or secret.' },
} as const

export async function assertRefreshError(res: Response, status: number, code: string): Promise<void> {
  const text = await res.text()
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${text}`)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  const body = JSON.parse(text)
  assert.deepEqual(Object.keys(body), ['error'])
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'msg'])
  assert.equal(body.error.code, code, `expected ${code}, got ${text}`)
  assert.equal(typeof body.error.msg, 'string')
}

// ---------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------

const keySets = new WeakMap<TestServer, JWTVerifyGetKey>()

/** Verifies an access token against the server's published keys and issuer; returns header and claims. */
export async function verifyAccessToken(server: TestServer, token: string) {
  let keys = keySets.get(server)
  if (!keys) {
    keys = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`))
    keySets.set(server, keys)
  }
  const { payload, protectedHeader } = await jwtVerify(token, keys, { issuer: server.issuer })
  assert.equal(protectedHeader.alg, 'RS256')
  assert.equal(typeof protectedHeader.kid, 'string')
  assert.ok(protectedHeader.kid)
  return { payload: payload as JWTPayload & Record<string, unknown>, header: protectedHeader }
}

/** `exp - iat` of a verified token. */
export function lifetime(payload: JWTPayload): number {
  return payload.exp! - payload.iat!
}

// ---------------------------------------------------------------------------------------
// Admin
// ---------------------------------------------------------------------------------------

/** A service key (seed 000) for a client that holds the `servicekey` grant. */
export async function createServiceKey(
  server: TestServer,
  input: { clientId: string; serviceName: string; scopes?: string[] },
): Promise<{ serviceName: string; serviceKey: string }> {
  const { record, serviceKey } = await server.admin.serviceKeys.create(input)
  assert.equal(record.serviceName, input.serviceName)
  assert.equal(typeof serviceKey, 'string')
  return { serviceName: record.serviceName, serviceKey }
}

/** A child credential (seed 002) of a parent client. */
export async function createChild(
  server: TestServer,
  clientId: string,
  name = 'child',
): Promise<{ childKey: string; childSecret: string }> {
  const { record, childSecret } = await server.admin.children.create({ clientId, name })
  assert.equal(typeof record.childKey, 'string')
  assert.equal(typeof childSecret, 'string')
  return { childKey: record.childKey, childSecret }
}

/** Disables a client and waits until the server has seen it. */
export async function disableClient(server: TestServer, clientId: string): Promise<void> {
  await server.admin.clients.setEnabled(clientId, false)
  await waitForChangeFeed()
}
