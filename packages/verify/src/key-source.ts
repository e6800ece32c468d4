import {
  type CryptoKey,
  createRemoteJWKSet,
  customFetch,
  type ExportedJWKSCache,
  type FlattenedJWSInput,
  type JWKSCacheInput,
  type JWSHeaderParameters,
  jwksCache,
  type RemoteJWKSet,
} from 'jose'
import { discoverJwksUri } from './discovery.ts'
import { VerifyError } from './errors.ts'
import type { Settings } from './options.ts'

// A token naming a key the issuer does not publish is the token's fault; every other failure to
// produce a key (no answer, not a JWKS, a key that will not import) is the issuer's or ours.
const TOKEN_FAULTS: ReadonlySet<unknown> = new Set([
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
])

export type KeyResolver = (
  header: JWSHeaderParameters,
  token: FlattenedJWSInput,
) => CryptoKey | Promise<CryptoKey>

/**
 * The issuer's signing keys, over jose's `createRemoteJWKSet`, which fetches them on first use
 * and again, at most once per cooldown, when a token names an unknown `kid` (a key rotated in
 * with `keys rotate --now`). Three things are added:
 * - the JWKS location is discovered lazily from the issuer's metadata, and a failed discovery is
 *   retried at the next request rather than crashing the API;
 * - after `jwksCacheMaxAge` the keys are refreshed in the background (jose's own expiry is off,
 *   since it would refetch inline and, with the issuer down, fail requests it could still judge
 *   with the keys at hand);
 * - a key jose has chosen is answered from hand until jose stores another set.
 */
export class KeySource {
  private readonly settings: Settings
  private remote: RemoteJWKSet | undefined
  private connecting: Promise<RemoteJWKSet> | undefined
  private refreshAt = 0
  // jose writes each key set it fetches here; a new set is a new object.
  private readonly fetched: Partial<ExportedJWKSCache> = {}
  // The keys jose chose from `keysOf`, by alg and kid: those two alone pick a compact JWS's key.
  private readonly chosen = new Map<string, CryptoKey>()
  private keysOf: unknown

  constructor(settings: Settings) {
    this.settings = settings
  }

  /**
   * The jose key resolver: an arrow property, so jwtVerify takes it without a bind per call, and
   * not async. A key jose has chosen before from the same set is answered in hand, so a warm call
   * holds none of jose's three frames and promises of key selection across an await.
   */
  readonly resolve: KeyResolver = (header, token) => {
    const remote = this.remote
    if (remote === undefined) return this.connect().then((opened) => opened(header, token).catch(keyFailure))
    if (Date.now() >= this.refreshAt) this.refreshInBackground(remote)
    if (this.keysOf !== this.fetched.jwks) {
      this.chosen.clear()
      this.keysOf = this.fetched.jwks
    }
    const id = typeof header.kid === 'string' ? `${header.alg} ${header.kid}` : undefined
    const known = id === undefined ? undefined : this.chosen.get(id)
    if (known !== undefined) return known
    const set = this.keysOf
    return remote(header, token).then((key) => {
      if (id !== undefined && set === this.fetched.jwks) this.chosen.set(id, key)
      return key
    }, keyFailure)
  }

  /** Discovers the JWKS and fetches it now; rejects with `temporarily_unavailable` if it cannot. */
  async load(): Promise<void> {
    const remote = this.remote ?? (await this.connect())
    try {
      await remote.reload()
      this.refreshAt = Date.now() + this.settings.cacheMaxAgeMs
    } catch (error) {
      throw unavailable(error)
    }
  }

  private connect(): Promise<RemoteJWKSet> {
    // Concurrent first requests share one discovery; a failed one is forgotten, so the next retries.
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined
    })
    return this.connecting
  }

  private async open(): Promise<RemoteJWKSet> {
    const s = this.settings
    let uri: URL
    try {
      uri = s.jwksUri ?? (await discoverJwksUri(s.issuer, s.fetch, s.timeoutMs))
    } catch (error) {
      throw unavailable(error)
    }
    this.remote ??= createRemoteJWKSet(uri, {
      timeoutDuration: s.timeoutMs,
      cooldownDuration: s.cooldownMs,
      cacheMaxAge: Number.POSITIVE_INFINITY,
      [customFetch]: s.fetch,
      [jwksCache]: this.fetched as JWKSCacheInput,
    })
    this.refreshAt = Date.now() + s.cacheMaxAgeMs
    return this.remote
  }

  private refreshInBackground(remote: RemoteJWKSet): void {
    // Until this settles no other request starts one; after a failure, wait one cooldown.
    this.refreshAt = Date.now() + this.settings.cooldownMs
    remote.reload().then(
      () => {
        this.refreshAt = Date.now() + this.settings.cacheMaxAgeMs
      },
      () => {
        // Keep the keys at hand; the next request after the cooldown tries again.
      },
    )
  }
}

function keyFailure(error: unknown): never {
  if (TOKEN_FAULTS.has((error as { code?: unknown } | null)?.code)) throw error
  throw unavailable(error)
}

function unavailable(cause: unknown): VerifyError {
  if (cause instanceof VerifyError) return cause
  return new VerifyError('temporarily_unavailable', 'The keys of the token issuer cannot be fetched now.', {
    cause,
  })
}
