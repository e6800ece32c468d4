import { type Clock, nowSeconds } from '../clock.ts'
import { OAuthError } from '../errors.ts'
import type { KeyRing } from '../keys/key-ring.ts'
import { randomId } from '../random.ts'

export interface AccessTokenClaims {
  clientId: string
  subject: string
  scopes: readonly string[]
  audience: string | string[]
  ttl: number
  /** Extra claims such as `act` (RFC 8693 §4.1). */
  extra?: Record<string, unknown>
}

export interface IssuedAccessToken {
  token: string
  expiresIn: number
  jti: string
  expiresAt: number
}

/** Signs RFC 9068 access tokens with the key ring's current key. */
export class AccessTokenIssuer {
  private readonly keys: KeyRing
  private readonly clock: Clock
  private readonly issuer: string
  private readonly typ: string

  constructor(options: { keys: KeyRing; clock: Clock; issuer: string; typ: string }) {
    this.keys = options.keys
    this.clock = options.clock
    this.issuer = options.issuer
    this.typ = options.typ
  }

  async issue(claims: AccessTokenClaims): Promise<IssuedAccessToken> {
    const signer = this.keys.signer()
    if (!signer)
      throw new OAuthError('server_error', 'no signing key is active', { cause: new Error('empty key ring') })
    const iat = nowSeconds(this.clock)
    const exp = iat + claims.ttl
    // A per-token jti keeps two tokens issued in one second distinct and makes revocation
    // of a single token possible.
    const jti = randomId()
    const payload: Record<string, unknown> = {
      ...claims.extra,
      iss: this.issuer,
      sub: claims.subject,
      aud: claims.audience,
      exp,
      iat,
      jti,
      client_id: claims.clientId,
    }
    if (claims.scopes.length > 0) payload.scope = claims.scopes.join(' ')
    const token = await signer.sign(this.typ, payload)
    return { token, expiresIn: claims.ttl, jti, expiresAt: exp }
  }
}
