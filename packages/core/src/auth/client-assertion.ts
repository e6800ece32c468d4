import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  type FetchImplementation,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose'
import { type Clock, nowSeconds } from '../clock.ts'
import type { ClientRecord } from '../model.ts'
import type { Store } from '../storage/port.ts'

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

// 'Ed25519' is RFC 9864's fully specified name for what 'EdDSA' means with an Ed25519 key.
export const ASSERTION_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]

/**
 * private_key_jwt (RFC 7523 §2.2 and §3, OpenID Connect Core §9): the client signs a short
 * JWT with its own key. iss and sub are the client, aud names this server, exp is
 * required, and each jti is accepted once.
 */
export class ClientAssertionVerifier {
  private readonly store: Store
  private readonly clock: Clock
  private readonly issuer: string
  private readonly remote = new Map<string, JWTVerifyGetKey>()
  // A client's inline keys, imported once per client record: jose imports a set's keys when
  // it first uses them, so a set made for each request imported them every time, which
  // doubled an assertion's cost (about 110 µs more at RS256, 140 at ES256, timed in a loop).
  // A changed client is a new record, so nothing goes stale.
  private readonly local = new WeakMap<ClientRecord, JWTVerifyGetKey>()

  constructor(options: { store: Store; clock: Clock; issuer: string }) {
    this.store = options.store
    this.clock = options.clock
    this.issuer = options.issuer
  }

  async verify(client: ClientRecord, assertion: string): Promise<boolean> {
    const keys = this.keysOf(client)
    if (!keys) return false
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
    try {
      ;({ payload } = await jwtVerify(assertion, keys, {
        issuer: client.clientId,
        subject: client.clientId,
        algorithms: ASSERTION_ALGORITHMS,
        requiredClaims: ['exp', 'jti', 'aud'],
        currentDate: new Date(this.clock.now()),
        clockTolerance: 5,
      }))
    } catch {
      return false
    }
    // The audience identifies this server: its issuer or one of its endpoint URLs. jose checks
    // that aud and jti are present, not what they are: they come from the client, any JSON.
    const audiences: unknown[] = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
    const ours = (a: unknown) =>
      typeof a === 'string' && (a === this.issuer || a.startsWith(`${this.issuer}/`))
    if (!audiences.some(ours) || typeof payload.jti !== 'string') return false
    const exp = payload.exp!
    if (exp - nowSeconds(this.clock) > 3600) return false
    return this.store.consumeOnce(`assertion:${client.clientId}:${payload.jti}`, exp + 5)
  }

  private keysOf(client: ClientRecord): JWTVerifyGetKey | undefined {
    if (client.jwks) {
      let keys = this.local.get(client)
      if (!keys) {
        keys = createLocalJWKSet(client.jwks as Parameters<typeof createLocalJWKSet>[0])
        this.local.set(client, keys)
      }
      return keys
    }
    if (!client.jwksUri) return undefined
    let keys = this.remote.get(client.jwksUri)
    if (!keys) {
      // jose caches the fetched set and refetches on an unknown kid, at most every 30 s.
      keys = createRemoteJWKSet(new URL(client.jwksUri), {
        timeoutDuration: 5000,
        [customFetch]: fetchCapped,
      })
      this.remote.set(client.jwksUri, keys)
    }
    return keys
  }
}

/**
 * A client's key set comes from the client's own server, which must not be able to fill this
 * one's memory: jose reads the whole answer it is given (for up to its 5 s timeout), so the
 * body is read here up to a limit, and a larger one fails the fetch, and with it the assertion.
 * A hundred RSA-4096 keys come to about 80 KiB. jose asks for no redirects.
 */
const JWKS_BODY_LIMIT = 256 * 1024

const fetchCapped: FetchImplementation = async (url, options) => {
  const response = await fetch(url, options)
  const tooLarge = () => new Error(`the key set at ${url} is larger than ${JWKS_BODY_LIMIT} bytes`)
  if (Number(response.headers.get('content-length')) > JWKS_BODY_LIMIT) {
    await response.body?.cancel()
    throw tooLarge()
  }
  if (!response.body) return response
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of response.body) {
    size += chunk.byteLength
    // Leaving the loop early cancels the stream, which closes the connection.
    if (size > JWKS_BODY_LIMIT) throw tooLarge()
    chunks.push(chunk)
  }
  const { status, statusText, headers } = response
  return new Response(Buffer.concat(chunks), { status, statusText, headers })
}
