// A small real issuer for the verifier's own tests: RFC 8414 metadata and a JWKS over loopback
// node:http, and a signer for tokens Gatehouse would never issue (a missing claim, a wrong typ).
// The end-to-end tests in test/e2e/verifier.test.ts use a real Gatehouse instead.
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose'

export type TestAlg = 'RS256' | 'ES256' | 'EdDSA'

interface Key {
  kid: string
  alg: TestAlg
  privateKey: CryptoKey
  jwk: JWK
}

export interface TestIssuer {
  /** The issuer URL, and the `iss` of its tokens. */
  issuer: string
  jwksUri: string
  /** Requests served, by path. */
  hits: Map<string, number>
  /** The key that signs. */
  current: Key
  /** Signs an access token with the current key: RFC 9068 claims unless overridden (undefined removes one). */
  sign(claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>
  /** Publishes a new key and signs with it from now on; the old one stays published. */
  rotate(alg?: TestAlg): Promise<Key>
  /** Stops publishing a key, as an issuer does with a key it no longer trusts. */
  withdraw(kid: string): void
  /** What the issuer answers: normally, with 500s, or (for metadata) 404s. */
  mode: 'up' | 'error' | 'no-metadata'
  /** Overrides of the metadata document. */
  metadata: Record<string, unknown>
  stop(): Promise<void>
}

export const AUDIENCE = 'https://api.example.com/prices'

async function newKey(alg: TestAlg): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const kid = randomUUID()
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

export async function startIssuer(
  options: { alg?: TestAlg; path?: string; jwksPath?: string } = {},
): Promise<TestIssuer> {
  const keys = [await newKey(options.alg ?? 'ES256')]
  const hits = new Map<string, number>()
  const jwksPath = options.jwksPath ?? '/.well-known/jwks.json'
  let base = ''
  const state: TestIssuer = {
    issuer: '',
    jwksUri: '',
    hits,
    current: keys[0]!,
    mode: 'up',
    metadata: {},
    async sign(claims = {}, header = {}) {
      const now = Math.floor(Date.now() / 1000)
      const payload: Record<string, unknown> = {
        iss: state.issuer,
        sub: 'client-1',
        aud: AUDIENCE,
        exp: now + 300,
        iat: now,
        jti: randomUUID(),
        client_id: 'client-1',
        scope: 'prices.read',
        ...claims,
      }
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name]
      const key = state.current
      return new SignJWT(payload as JWTPayload)
        .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header })
        .sign(key.privateKey)
    },
    async rotate(alg) {
      const key = await newKey(alg ?? state.current.alg)
      keys.push(key)
      state.current = key
      return key
    },
    withdraw(kid) {
      keys.splice(
        keys.findIndex((k) => k.kid === kid),
        1,
      )
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    hits.set(path, (hits.get(path) ?? 0) + 1)
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (state.mode === 'error') return send(500, { error: 'server_error' })
    if (path === jwksPath) return send(200, { keys: keys.map((k) => k.jwk) })
    if (path === `/.well-known/oauth-authorization-server${options.path ?? ''}`) {
      if (state.mode === 'no-metadata') return send(404, {})
      return send(200, { issuer: state.issuer, jwks_uri: state.jwksUri, ...state.metadata })
    }
    send(404, { error: 'not_found' })
  })
  server.keepAliveTimeout = 100
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  state.issuer = `${base}${options.path ?? ''}`
  state.jwksUri = `${base}${jwksPath}`
  return state
}
