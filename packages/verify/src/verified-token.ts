import type { JWTPayload } from 'jose'
import { invalidToken } from './token-errors.ts'

/** RFC 8693 §4.1: who acts on behalf of `sub` (Gatehouse: the parent client of a child credential). */
export interface Actor {
  sub: string
  [claim: string]: unknown
}

/**
 * A verified access token, as the protected API reads it.
 *
 * @example
 * ```ts
 * const auth = await verifier.verify(token)
 * if (auth.act) log.info({ customer: auth.sub, integrator: auth.act.sub }, 'on behalf of')
 * const canWrite = auth.scopes.includes('prices.write')
 * ```
 */
export interface VerifiedToken {
  /** The subject: the client for client credentials, the service name or the child key otherwise. */
  sub: string
  /** The client the token was issued to (`client_id`). */
  clientId: string
  /** The granted scopes (`scope`, split); empty when the token has none. */
  scopes: string[]
  /** The audiences (`aud`), always as a list. */
  aud: string[]
  /** Expiry, seconds since the epoch. */
  exp: number
  /** Issue time, seconds since the epoch. */
  iat: number
  /** The token's unique id. */
  jti: string
  /** Present when someone acts for `sub` (Gatehouse's parent/child grants). */
  act?: Actor
  /** Every claim of the token, for anything not lifted above. */
  claims: JWTPayload
}

/**
 * The result shape from a payload jose has checked (signature, iss, aud, exp, nbf, and presence
 * of the RFC 9068 §2.2 claims); what is left is the type of the claims jose does not type.
 */
export function toVerifiedToken(claims: JWTPayload): VerifiedToken {
  const { sub, client_id: clientId, jti, scope, aud, act } = claims
  if (typeof sub !== 'string') throw malformed('sub')
  if (typeof clientId !== 'string') throw malformed('client_id')
  if (typeof jti !== 'string') throw malformed('jti')
  if (scope !== undefined && typeof scope !== 'string') throw malformed('scope')
  // jose has checked that aud is, or is a list that holds, one of this API's identifiers.
  if (typeof aud !== 'string' && !aud!.every((a) => typeof a === 'string')) throw malformed('aud')
  const token: VerifiedToken = {
    sub,
    clientId,
    scopes: scope ? splitScope(scope) : [],
    aud: typeof aud === 'string' ? [aud] : aud!,
    exp: claims.exp!,
    iat: claims.iat!,
    jti,
    claims,
  }
  if (act !== undefined) {
    if (!isActor(act)) throw malformed('act')
    token.act = act
  }
  return token
}

// RFC 6749 §3.3: scope-tokens separated by single spaces; be lenient about doubled ones.
function splitScope(scope: string): string[] {
  const scopes = scope.split(' ')
  return scopes.includes('') ? scopes.filter((s) => s !== '') : scopes
}

function isActor(value: unknown): value is Actor {
  return typeof value === 'object' && value !== null && typeof (value as { sub?: unknown }).sub === 'string'
}

function malformed(claim: string) {
  return invalidToken(`The "${claim}" claim of the access token is malformed.`)
}
