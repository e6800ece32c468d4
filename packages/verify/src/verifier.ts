import { type JWTVerifyOptions, jwtVerify } from 'jose'
import { bearerToken } from './bearer.ts'
import { VerifyError } from './errors.ts'
import { KeySource } from './key-source.ts'
import { normalizeTyp, resolveOptions, type Settings, scopeList, type VerifierOptions } from './options.ts'
import { invalidToken, tokenError } from './token-errors.ts'
import { toVerifiedToken, type VerifiedToken } from './verified-token.ts'

// RFC 9068 §2.2: the claims every JWT access token carries (jose adds iss and aud, which it checks).
const REQUIRED_CLAIMS = ['sub', 'exp', 'iat', 'jti', 'client_id']

// Three base64url segments and nothing else (RFC 7515 §7.1). jose decodes with atob, which skips
// whitespace and takes padding, so without this check one token had many spellings (a trailing
// newline verified), and a cache or deny list keyed by the token string could be walked around.
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/

export interface VerifyOptions {
  /** Scopes this call requires, all of them (space-separated or a list), besides `requiredScopes`. */
  scope?: string | readonly string[]
}

export interface Verifier {
  /**
   * Checks a JWT access token: signature against the issuer's JWKS, `typ`, `iss`, `aud`, `exp`,
   * `nbf`, the RFC 9068 claims, and the required scopes. Resolves to the token's claims; rejects
   * with a `VerifyError` (`invalid_token` 401, `insufficient_scope` 403, `temporarily_unavailable`
   * 503 when the keys cannot be fetched).
   */
  verify(token: string, options?: VerifyOptions): Promise<VerifiedToken>
  /**
   * `verify` of the token in an `Authorization` header value, which `bearerToken` parses first
   * (`missing_token` 401, `invalid_request` 400).
   */
  authenticate(authorization: string | string[] | undefined, options?: VerifyOptions): Promise<VerifiedToken>
  /**
   * Discovers and fetches the keys now instead of at the first request, e.g. at start-up or in a
   * readiness check. Rejects with `temporarily_unavailable` if they cannot be fetched.
   */
  prefetch(): Promise<void>
  /** The realm of this verifier's challenges (`WWW-Authenticate`). */
  readonly realm: string
}

/**
 * A verifier for Gatehouse access tokens (RFC 9068 JWTs). Create one per API and process and
 * share it: it caches the issuer's keys.
 *
 * @example
 * ```ts
 * import { createVerifier } from '@gatehouse/verify'
 *
 * const verifier = createVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com/prices',
 * })
 * const auth = await verifier.verify(token, { scope: 'prices.read' })
 * auth.clientId // 'MVIM5U7VAyIx2PGGN-g71Q'
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  return new TokenVerifier(resolveOptions(options))
}

class TokenVerifier implements Verifier {
  readonly realm: string
  private readonly settings: Settings
  private readonly keys: KeySource
  // Built once: jose reads it on every call, so the hot path allocates no options object.
  private readonly joseOptions: JWTVerifyOptions

  constructor(settings: Settings) {
    this.settings = settings
    this.realm = settings.realm
    this.keys = new KeySource(settings)
    this.joseOptions = {
      issuer: settings.issuer,
      audience: settings.audience,
      algorithms: settings.algorithms,
      requiredClaims: REQUIRED_CLAIMS,
      clockTolerance: settings.clockTolerance,
    }
  }

  async verify(token: string, options?: VerifyOptions): Promise<VerifiedToken> {
    if (!COMPACT_JWS.test(token)) throw invalidToken('The access token is not a well-formed JWS.')
    const { clock } = this.settings
    const joseOptions = clock ? { ...this.joseOptions, currentDate: new Date(clock.now()) } : this.joseOptions
    let verified: Awaited<ReturnType<typeof jwtVerify>>
    try {
      verified = await jwtVerify(token, this.keys.resolve, joseOptions)
    } catch (error) {
      throw tokenError(error)
    }
    // RFC 9068 §4 and RFC 8725 §3.11: explicit typing keeps other JWTs of this issuer (ID tokens,
    // client assertions) from passing as access tokens.
    const typ = verified.protectedHeader.typ
    if (
      typeof typ !== 'string' ||
      !(this.settings.typ.has(typ) || this.settings.typ.has(normalizeTyp(typ)))
    ) {
      throw invalidToken('The token is not an access token of an accepted type (typ).')
    }
    const result = toVerifiedToken(verified.payload)
    this.checkScopes(result.scopes, options?.scope)
    return result
  }

  async authenticate(
    authorization: string | string[] | undefined,
    options?: VerifyOptions,
  ): Promise<VerifiedToken> {
    return this.verify(bearerToken(authorization), options)
  }

  prefetch(): Promise<void> {
    return this.keys.load()
  }

  private checkScopes(granted: string[], scope: string | readonly string[] | undefined): void {
    const base = this.settings.requiredScopes
    const extra = scope === undefined ? undefined : scopeList(scope)
    const required =
      extra === undefined || extra.length === 0 ? base : base.length === 0 ? extra : [...base, ...extra]
    for (const s of required) if (!granted.includes(s)) throw insufficientScope(required, granted)
  }
}

function insufficientScope(required: readonly string[], granted: readonly string[]): VerifyError {
  const missing = required.filter((s) => !granted.includes(s))
  // RFC 6750 §3: `scope` names everything the request needs, so the client can ask for it.
  return new VerifyError('insufficient_scope', `The access token lacks the scope ${missing.join(' ')}.`, {
    scope: [...new Set(required)].join(' '),
  })
}
