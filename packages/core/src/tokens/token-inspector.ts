import { type JWTPayload, jwtVerify } from 'jose'
import type { ClientDirectory } from '../clients/client-directory.ts'
import { type Clock, nowSeconds } from '../clock.ts'
import { OAuthError } from '../errors.ts'
import type { KeyRing } from '../keys/key-ring.ts'
import type { ClientRecord } from '../model.ts'
import { safeEqualString } from '../secrets.ts'
import type { Store } from '../storage/port.ts'
import { denyGrant, grantDenyKey, parseRefreshToken } from './refresh-tokens.ts'

export type Introspection = { active: false } | ({ active: true } & Record<string, unknown>)

const INACTIVE: Introspection = { active: false }

// Three base64url segments and nothing else (RFC 7515 §7.1): jose's atob would also take
// whitespace and padding, giving one token several spellings.
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/

/**
 * Introspection (RFC 7662) and revocation (RFC 7009) of the tokens this server issued. An
 * inactive answer never says why: expired, revoked, malformed, foreign and someone else's
 * tokens all look the same.
 */
export class TokenInspector {
  private readonly keys: KeyRing
  private readonly store: Store
  private readonly clients: ClientDirectory
  private readonly clock: Clock
  private readonly issuer: string
  private readonly maxTtl: number

  constructor(options: {
    keys: KeyRing
    store: Store
    clients: ClientDirectory
    clock: Clock
    issuer: string
    /** How long an access token may live (tokens.maxTtl): a revoked family's are denied that long. */
    maxTtl: number
  }) {
    this.keys = options.keys
    this.store = options.store
    this.clients = options.clients
    this.clock = options.clock
    this.issuer = options.issuer
    this.maxTtl = options.maxTtl
  }

  async introspect(requester: ClientRecord, token: string): Promise<Introspection> {
    assertConfidential(requester)
    const now = nowSeconds(this.clock)
    const claims = await this.accessToken(token)
    if (claims) {
      const owner = typeof claims.client_id === 'string' ? claims.client_id : undefined
      if (!owner || !(await this.visible(requester, owner))) return INACTIVE
      if (claims.jti && (await this.store.isAccessTokenRevoked(claims.jti, now))) return INACTIVE
      // Issued with a refresh family since revoked (by the revocation endpoint, or on reuse).
      if (
        typeof claims.sid === 'string' &&
        (await this.store.isAccessTokenRevoked(grantDenyKey(claims.sid), now))
      )
        return INACTIVE
      const { scope, client_id, sub, aud, iss, exp, iat, jti, act } = claims
      // A child's token dies with its child, as a client's with its client.
      if (act !== undefined && !(await this.childEnabled(sub, owner))) return INACTIVE
      return { active: true, scope, client_id, sub, aud, iss, exp, iat, jti, act, token_type: 'Bearer' }
    }
    const parts = parseRefreshToken(token)
    const refresh = parts && (await this.store.getRefreshFamily(parts.familyId))
    // A spent token of a live family is inactive: only the current secret is.
    if (!parts || !refresh || refresh.revoked || refresh.expiresAt <= now) return INACTIVE
    if (!safeEqualString(refresh.secretHash, parts.secretHash)) return INACTIVE
    if (!(await this.visible(requester, refresh.clientId))) return INACTIVE
    return {
      active: true,
      scope: refresh.scopes.length > 0 ? refresh.scopes.join(' ') : undefined,
      client_id: refresh.clientId,
      sub: refresh.subject,
      iss: this.issuer,
      exp: refresh.expiresAt,
      iat: refresh.rotatedAt,
      token_type: 'refresh_token',
    }
  }

  /**
   * Revokes a refresh token with its family (a spent token of the family too: only its
   * holders know the family) and the access tokens issued with it, or denies an access
   * token's jti until it would have expired.
   * Unknown and invalid tokens are no error (RFC 7009 §2.2); another client's token is refused.
   */
  async revoke(requester: ClientRecord, token: string): Promise<void> {
    assertConfidential(requester)
    const parts = parseRefreshToken(token)
    const refresh = parts && (await this.store.getRefreshFamily(parts.familyId))
    if (refresh) {
      if (refresh.clientId !== requester.clientId) throw notYours()
      await this.store.revokeRefreshFamily(refresh.familyId)
      await denyGrant(this.store, refresh.familyId, nowSeconds(this.clock), this.maxTtl)
      return
    }
    const claims = await this.accessToken(token, { ignoreExpiry: true })
    if (!claims?.jti || typeof claims.exp !== 'number') return
    if (claims.client_id !== requester.clientId) throw notYours()
    if (claims.exp > nowSeconds(this.clock)) await this.store.revokeAccessToken(claims.jti, claims.exp)
  }

  /** The claims of a valid access token this server signed, or undefined. */
  private async accessToken(
    token: string,
    options: { ignoreExpiry?: boolean } = {},
  ): Promise<JWTPayload | undefined> {
    if (!COMPACT_JWS.test(token)) return undefined
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.keys.verificationKeys(), {
        issuer: this.issuer,
        currentDate: new Date(this.clock.now()),
        // Expired tokens need no revocation; verifying them anyway lets revoke stay silent.
        clockTolerance: options.ignoreExpiry ? Number.MAX_SAFE_INTEGER : 0,
      })
      return this.keys.couldHaveSigned(protectedHeader.kid, payload.iat) ? payload : undefined
    } catch {
      return undefined
    }
  }

  private async childEnabled(childKey: unknown, parentId: string): Promise<boolean> {
    if (typeof childKey !== 'string') return false
    const child = await this.store.getChild(childKey)
    return child?.enabled === true && child.clientId === parentId
  }

  /** A client sees its own tokens; a resource server (`--introspect`) sees all. Disabled owners' tokens are dead. */
  private async visible(requester: ClientRecord, ownerId: string): Promise<boolean> {
    if (requester.clientId !== ownerId && !requester.introspect) return false
    const owner = requester.clientId === ownerId ? requester : await this.clients.get(ownerId)
    return owner?.enabled === true
  }
}

function assertConfidential(client: ClientRecord): void {
  if (client.isPublic)
    throw new OAuthError('invalid_client', 'Only confidential clients may introspect or revoke tokens.')
}

function notYours(): OAuthError {
  return new OAuthError('invalid_request', 'The token was not issued to this client.')
}
