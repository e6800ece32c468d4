import { boundedFetch } from './bounded-fetch.ts'

/** The asymmetric JWS algorithms a verifier may accept. `none` and the HMAC ones never: a
 * resource server holds no shared secret, and accepting HS256 would let anyone sign with the
 * public key (RFC 8725 §2.1, §3.1). */
export type Algorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'

const ALGORITHMS: ReadonlySet<string> = new Set<Algorithm>([
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
])

/** What Gatehouse signs with (`tokens.algorithm`). */
export const DEFAULT_ALGORITHMS: readonly Algorithm[] = ['RS256', 'ES256', 'EdDSA']

/** Token times are read from this; tests freeze it. Milliseconds since the Unix epoch. */
export interface Clock {
  now(): number
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

/**
 * How a protected API checks Gatehouse access tokens. Only `issuer` and `audience` are required;
 * every other option has a default, and bad values fail `createVerifier` at once.
 *
 * @example
 * ```ts
 * const options: VerifierOptions = {
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com/prices',
 *   typ: ['at+jwt', 'JWT'],           // Gatehouse runs with tokens.typ: JWT
 *   requiredScopes: 'prices.read',    // on every route, on top of each route's own
 * }
 * ```
 */
export interface VerifierOptions {
  /** The `iss` every token must carry, compared exactly: Gatehouse's `issuer` setting. */
  issuer: string
  /**
   * This API's identifier (`gatehouse apis create --identifier`), or several: a token must name
   * one of them in `aud`. Without an API, Gatehouse's default audience is the issuer.
   */
  audience: string | readonly string[]
  /**
   * Where the signing keys are. Default: the `jwks_uri` of the issuer's metadata, found on the
   * first verification (RFC 8414 `/.well-known/oauth-authorization-server`, then OpenID
   * `/.well-known/openid-configuration`; if the issuer publishes neither, `${issuer}/.well-known/jwks.json`).
   */
  jwksUri?: string | URL
  /** The accepted `alg` values. Default `['RS256', 'ES256', 'EdDSA']`. */
  algorithms?: readonly Algorithm[]
  /**
   * The accepted `typ` header values, compared case-insensitively with or without the
   * `application/` prefix (RFC 7515 §4.1.9). Default `['at+jwt']` (RFC 9068 §4). Add `'JWT'`
   * when Gatehouse runs with `tokens.typ: JWT`.
   */
  typ?: readonly string[]
  /** Seconds of clock skew allowed on `exp` and `nbf`. Default 5. */
  clockTolerance?: number
  /** Scopes every verification requires, on top of those a call or a middleware names. Default none. */
  requiredScopes?: string | readonly string[]
  /** The `realm` of `WWW-Authenticate` challenges. Default: the first audience. */
  realm?: string
  /**
   * Seconds after which the keys are fetched again, in the background: verification goes on
   * with the keys at hand meanwhile, and keeps them if the fetch fails. Default 300 (Gatehouse's
   * JWKS `max-age` is at most half its key lead time, 300 s by default).
   */
  jwksCacheMaxAge?: number
  /**
   * Seconds after a fetch before a token with an unknown `kid` may trigger another one; bounds
   * what tokens with made-up key ids can make this API send to the issuer. Default 10.
   */
  jwksCooldown?: number
  /** Seconds to wait for the metadata or the JWKS before answering 503. Default 5. */
  timeout?: number
  /**
   * The fetch used for metadata and keys. Default: the global `fetch`. Either way, an answer
   * larger than 256 KiB is refused (503), not read on.
   */
  fetch?: FetchLike
  /** The clock that `exp` and `nbf` are checked against. Default: the system clock. */
  clock?: Clock
}

/** The options after validation, in the units the code uses. */
export interface Settings {
  issuer: string
  audience: string[]
  jwksUri: URL | undefined
  algorithms: Algorithm[]
  typ: ReadonlySet<string>
  clockTolerance: number
  requiredScopes: string[]
  realm: string
  cacheMaxAgeMs: number
  cooldownMs: number
  timeoutMs: number
  fetch: FetchLike
  clock: Clock | undefined
}

/** `at+jwt`, `AT+JWT` and `application/at+jwt` are one media type (RFC 7515 §4.1.9). */
export function normalizeTyp(value: string): string {
  const lower = value.toLowerCase()
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower
}

/** A scope list given as a space-separated string or an array, as a list. */
export function scopeList(scope: string | readonly string[] | undefined): string[] {
  if (scope === undefined) return []
  const list = typeof scope === 'string' ? scope.split(' ') : [...scope]
  return list.filter((s) => s.length > 0)
}

export function resolveOptions(options: VerifierOptions): Settings {
  const issuer = options.issuer
  if (typeof issuer !== 'string' || !URL.canParse(issuer)) {
    throw new TypeError('verifier: "issuer" must be the issuer URL, e.g. https://auth.example.com')
  }
  const audience = typeof options.audience === 'string' ? [options.audience] : [...(options.audience ?? [])]
  if (audience.length === 0 || audience.some((a) => typeof a !== 'string' || a.length === 0)) {
    throw new TypeError('verifier: "audience" must name this API: a non-empty string or array of strings')
  }
  const algorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)]
  const refused = algorithms.filter((alg) => !ALGORITHMS.has(alg))
  if (algorithms.length === 0 || refused.length > 0) {
    throw new TypeError(
      `verifier: "algorithms" must be asymmetric JWS algorithms (${[...ALGORITHMS].join(', ')}); refused: ${refused.join(', ') || '(empty list)'}`,
    )
  }
  const typ = options.typ ?? ['at+jwt']
  if (typ.length === 0) throw new TypeError('verifier: "typ" must list at least one accepted value')
  let jwksUri: URL | undefined
  if (options.jwksUri !== undefined) {
    if (!URL.canParse(String(options.jwksUri))) throw new TypeError('verifier: "jwksUri" must be a URL')
    jwksUri = new URL(String(options.jwksUri))
  }
  return {
    issuer,
    audience,
    jwksUri,
    algorithms,
    // The raw spellings too, so the common case is one Set lookup without normalising.
    typ: new Set([...typ, ...typ.map(normalizeTyp)]),
    clockTolerance: seconds(options.clockTolerance, 5, 'clockTolerance'),
    requiredScopes: scopeList(options.requiredScopes),
    realm: options.realm ?? audience[0]!,
    cacheMaxAgeMs: seconds(options.jwksCacheMaxAge, 300, 'jwksCacheMaxAge') * 1000,
    cooldownMs: seconds(options.jwksCooldown, 10, 'jwksCooldown') * 1000,
    timeoutMs: Math.round(seconds(options.timeout, 5, 'timeout') * 1000),
    fetch: boundedFetch(options.fetch ?? ((input, init) => fetch(input, init))),
    clock: options.clock,
  }
}

function seconds(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`verifier: "${name}" must be a non-negative number of seconds`)
  }
  return value
}
