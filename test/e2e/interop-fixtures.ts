/*
 * Shared pieces of the interoperability tests: private_key_jwt clients and their
 * assertions, a tiny JWKS host, and verification of issued tokens through the published
 * keys, as a resource server would.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  type CryptoKey,
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose'
import type { TestServer } from './harness.ts'

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** Negative tests fail authentication on purpose, many times: keep the lockout out of the way. */
export const NO_RATE_LIMIT = { rateLimit: { failuresPerClient: 1000, failuresPerAddress: 1000 } }

/** Admin changes reach the running server through its change feed (polled every 50 ms in tests). */
export const waitForFeed = () => sleep(250)

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export type AssertionAlg = 'ES256' | 'RS256' | 'PS256' | 'EdDSA'

/** A client key pair: the private key for signing assertions, the public JWK to register. */
export interface ClientKey {
  alg: AssertionAlg
  kid: string
  privateKey: CryptoKey
  publicJwk: JWK
}

export async function clientKey(alg: AssertionAlg = 'ES256'): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const kid = randomUUID()
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { alg, kid, privateKey, publicJwk }
}

/** A private_key_jwt client: registered with inline public keys, holding no secret. */
export interface KeyClient {
  id: string
  key: ClientKey
}

export async function createKeyClient(
  server: TestServer,
  options: { alg?: AssertionAlg; scopes?: string[]; introspect?: boolean } = {},
): Promise<KeyClient> {
  const key = await clientKey(options.alg)
  const { id, secret } = await server.createClient({
    jwks: { keys: [key.publicJwk] },
    ...(options.scopes ? { scopes: options.scopes } : {}),
    ...(options.introspect ? { introspect: true } : {}),
  })
  assert.equal(secret, '', 'a private_key_jwt client holds no secret')
  return { id, key }
}

/**
 * An RFC 7523 client assertion. By default a valid one for `clientId` (iss = sub = the
 * client, aud = the issuer, 60 s lifetime, fresh jti); every claim can be overridden, and
 * `null` drops it.
 */
export async function signAssertion(
  key: ClientKey,
  clientId: string,
  audience: string,
  claims: { [name: string]: unknown } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const payload: JWTPayload = {
    iss: clientId,
    sub: clientId,
    aud: audience,
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
  }
  for (const [name, value] of Object.entries(claims)) {
    if (value === null) delete payload[name]
    else payload[name] = value
  }
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey)
}

/** The form fields of private_key_jwt client authentication. */
export function assertionFields(assertion: string): Record<string, string> {
  return { client_assertion_type: JWT_BEARER, client_assertion: assertion }
}

/** Serves a JWKS over plain HTTP on loopback, as a client's `jwks_uri` would. */
export async function serveJwks(jwks: {
  keys: JWK[]
}): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0
  const http = createServer((request, response) => {
    hits++
    if (request.url !== '/jwks.json') {
      response.writeHead(404).end()
      return
    }
    response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(jwks))
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve, reject) => {
        http.closeAllConnections()
        http.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

/**
 * Verifies an access token the way a resource server does: keys from the `jwks_uri` named in
 * discovery (a fresh key set each time, so a new kid is fetched), the issuer, and
 * `typ: at+jwt` (RFC 9068).
 */
export async function verifyAccessToken(server: TestServer, token: string) {
  const metadata = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string
  }
  const keys = createRemoteJWKSet(new URL(metadata.jwks_uri))
  const verified = await jwtVerify(token, keys, { issuer: server.issuer, typ: 'at+jwt' })
  const { payload } = verified
  for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id']) {
    assert.ok(payload[claim] !== undefined, `the token carries ${claim}`)
  }
  return verified
}

/** A token signed by a key the server never had, with claims that otherwise look like its own. */
export async function foreignToken(server: TestServer, clientId: string): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256')
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ client_id: clientId, scope: 'prices.read' })
    .setProtectedHeader({ alg: 'RS256', kid: 'not-a-gatehouse-key', typ: 'at+jwt' })
    .setIssuer(server.issuer)
    .setSubject(clientId)
    .setAudience(server.issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .setJti(randomUUID())
    .sign(privateKey)
}

/** The same token with one claim changed and the original signature kept. */
export function tamper(token: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.')
  const changed = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')), ...claims }
  return [header, Buffer.from(JSON.stringify(changed)).toString('base64url'), signature].join('.')
}
