import { hash } from 'node:crypto'
import { keepWithin } from '../bounded.ts'
import { type Clock, nowSeconds } from '../clock.ts'
import type { RefreshFamilyRecord } from '../model.ts'
import { randomId } from '../random.ts'
import type { Store } from '../storage/port.ts'

// 32 random bytes in base64url.
const SECRET_LENGTH = 43
const TOKEN = /^[A-Za-z0-9_-]{43,128}$/

/** Where a refresh token points: its family and the hash of its secret. */
export interface RefreshTokenParts {
  familyId: string
  secretHash: string
}

/**
 * A refresh token is its family's id followed by its 256-bit secret, 65 characters of
 * base64url (see RefreshFamilyRecord). A bare 43-character secret is a token issued before
 * families: the migration made each live one a family of its own, named by the token's hash.
 */
export function refreshFamilyOf(token: string): string | undefined {
  if (!TOKEN.test(token)) return undefined
  return token.length === SECRET_LENGTH ? hashRefreshSecret(token) : token.slice(0, -SECRET_LENGTH)
}

/** The family of a refresh token and the hash of its secret, or undefined when malformed. */
export function parseRefreshToken(token: string): RefreshTokenParts | undefined {
  const familyId = refreshFamilyOf(token)
  if (familyId === undefined) return undefined
  const secret = token.length === SECRET_LENGTH ? token : token.slice(-SECRET_LENGTH)
  return { familyId, secretHash: secret === token ? familyId : hashRefreshSecret(secret) }
}

/**
 * The public name of a refresh family (`sid`), carried by the access tokens issued with it, so
 * that revoking the family denies them too (RFC 7009 §2.1). A hash: the family id itself must
 * stay with the token's holder, since presented with any other secret it revokes the family.
 */
export function refreshGrantId(familyId: string): string {
  return hash('sha256', `sid:${familyId}`, 'base64url').slice(0, 22)
}

/**
 * Denies every access token issued with a revoked family, for as long as any can live: the
 * deny list of single access tokens, under the family's `sid`.
 */
export function denyGrant(
  store: Store,
  familyId: string,
  now: number,
  accessTokenMaxTtl: number,
): Promise<void> {
  return store.revokeAccessToken(grantDenyKey(refreshGrantId(familyId)), now + accessTokenMaxTtl)
}

/** A `sid`'s entry in the access-token deny list; a jti never has this form (randomId). */
export function grantDenyKey(grantId: string): string {
  return `sid:${grantId}`
}

/** A fast hash suffices for a secret of 256 random bits, and lets it be compared as stored. */
export function hashRefreshSecret(secret: string): string {
  return hash('sha256', secret, 'base64url')
}

/** How many families a service starts between trims of the starting client's (see issue). */
export const TRIM_EVERY = 64

/**
 * Issues and rotates refresh tokens. A rotation is one write: the family's current secret is
 * replaced, so the store holds one record per family however often it is refreshed.
 *
 * The owners of the families this server started are remembered (bounded, oldest out), so
 * the usual refresh does not read the store to find its client. That is safe because a
 * family's owner never changes: whether a token may still be used is decided by
 * `rotate`, in the store, every time.
 */
export class RefreshTokenService {
  private readonly store: Store
  private readonly clock: Clock
  private readonly ttl: number
  private readonly accessTokenMaxTtl: number
  // By family id: its owner, and its `sid` (refreshGrantId), hashed once.
  private readonly owners = new Map<string, { clientId: string; grant: string }>()
  private readonly capacity: number
  private readonly familiesPerClient: number
  private issued = 0

  constructor(options: {
    store: Store
    clock: Clock
    ttl: number
    /** How long an access token may live: a reused family's are denied that long. */
    accessTokenMaxTtl: number
    /** How many of its refresh families a client keeps; its oldest beyond that are deleted. */
    familiesPerClient: number
    ownerCacheSize?: number
  }) {
    this.store = options.store
    this.clock = options.clock
    this.ttl = options.ttl
    this.accessTokenMaxTtl = options.accessTokenMaxTtl
    this.capacity = options.ownerCacheSize ?? 100_000
    this.familiesPerClient = options.familiesPerClient
  }

  /** A new family's first token, and the `sid` of the access tokens issued with it. */
  async issue(grant: {
    clientId: string
    subject: string
    scopes: readonly string[]
  }): Promise<{ token: string; grant: string }> {
    // Every token request at the refresh dialect's endpoint starts a family, which lives 30
    // days: a client that asks for a token with every call would add millions. Every
    // TRIM_EVERY-th family started here first trims its client's to the newest
    // familiesPerClient - 1, so a busy client holds at most about TRIM_EVERY more, at the cost
    // of one walk over them. Trimmed before the new family is in, the new one cannot be among
    // those that go, which a tie on the start second would otherwise decide by id.
    if (++this.issued % TRIM_EVERY === 0)
      await this.store.trimRefreshFamilies(grant.clientId, this.familiesPerClient - 1)
    const familyId = randomId(16)
    const secret = randomId(32)
    const now = nowSeconds(this.clock)
    await this.store.insertRefreshFamily({
      familyId,
      secretHash: hashRefreshSecret(secret),
      clientId: grant.clientId,
      subject: grant.subject,
      scopes: [...grant.scopes],
      createdAt: now,
      rotatedAt: now,
      expiresAt: now + this.ttl,
      revoked: false,
    })
    return { token: familyId + secret, grant: this.remember(familyId, grant.clientId) }
  }

  /**
   * The client a refresh token was issued to, live or not: a spent token must still reach
   * `rotate`, where its reuse revokes the family.
   */
  async ownerOf(token: string): Promise<string | undefined> {
    const familyId = refreshFamilyOf(token)
    if (familyId === undefined) return undefined
    return this.owners.get(familyId)?.clientId ?? (await this.store.getRefreshFamily(familyId))?.clientId
  }

  /**
   * The family whose current, live secret `token` is, when it is `clientId`'s: a read that
   * spends nothing, for checking a request before `rotate` spends the token.
   */
  async current(token: string, clientId: string): Promise<RefreshFamilyRecord | undefined> {
    const parts = parseRefreshToken(token)
    if (!parts) return undefined
    const family = await this.store.getRefreshFamily(parts.familyId)
    if (
      !family ||
      family.revoked ||
      family.clientId !== clientId ||
      family.secretHash !== parts.secretHash ||
      family.expiresAt <= nowSeconds(this.clock)
    )
      return undefined
    return family
  }

  /**
   * Spends `token` for `clientId` and answers its family with the successor's value, or
   * undefined when the token cannot be used; a reuse has revoked the family by then.
   */
  async rotate(
    token: string,
    clientId: string,
  ): Promise<{ family: RefreshFamilyRecord; next: string; grant: string } | undefined> {
    const parts = parseRefreshToken(token)
    if (!parts) return undefined
    const secret = randomId(32)
    const now = nowSeconds(this.clock)
    // A token presented by a client other than its own is refused, and its family left alone.
    const rotation = await this.store.rotateRefreshFamily(
      parts.familyId,
      parts.secretHash,
      clientId,
      { secretHash: hashRefreshSecret(secret), rotatedAt: now, expiresAt: now + this.ttl },
      now,
    )
    if (rotation.outcome === 'reused') {
      // RFC 9700 §4.14.2: someone holds a stolen token of the family, and maybe its access tokens.
      await denyGrant(this.store, parts.familyId, now, this.accessTokenMaxTtl)
    }
    if (rotation.outcome !== 'rotated') return undefined
    const grant = this.remember(parts.familyId, rotation.family.clientId)
    return { family: rotation.family, next: parts.familyId + secret, grant }
  }

  private remember(familyId: string, clientId: string): string {
    const known = this.owners.get(familyId)
    if (known) return known.grant
    const grant = refreshGrantId(familyId)
    this.owners.set(familyId, { clientId, grant })
    keepWithin(this.owners, this.capacity)
    return grant
  }
}
