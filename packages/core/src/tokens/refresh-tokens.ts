import { hash } from 'node:crypto'
import { type Clock, nowSeconds } from '../clock.ts'
import type { RefreshTokenRecord } from '../model.ts'
import { randomId } from '../random.ts'
import type { Store } from '../storage/port.ts'

/**
 * Opaque refresh tokens: 256 random bits, stored as their SHA-256 (a fast hash suffices for
 * a value of that entropy, and lets the token be looked up by it).
 */
export class RefreshTokenService {
  private readonly store: Store
  private readonly clock: Clock
  private readonly ttl: number

  constructor(options: { store: Store; clock: Clock; ttl: number }) {
    this.store = options.store
    this.clock = options.clock
    this.ttl = options.ttl
  }

  async issue(grant: { clientId: string; subject: string; scopes: readonly string[] }): Promise<string> {
    const token = randomId(32)
    const now = nowSeconds(this.clock)
    await this.store.insertRefreshToken({
      hash: hashRefreshToken(token),
      familyId: randomId(16),
      clientId: grant.clientId,
      subject: grant.subject,
      scopes: [...grant.scopes],
      createdAt: now,
      expiresAt: now + this.ttl,
      spentAt: null,
      revoked: false,
    })
    return token
  }

  /**
   * The client a refresh token was issued to, live or not: a spent token must still reach
   * `rotate`, where its reuse revokes the family.
   */
  async ownerOf(token: string): Promise<string | undefined> {
    return (await this.store.getRefreshToken(hashRefreshToken(token)))?.clientId
  }

  /**
   * Spends `token` for `clientId` and answers its record with the successor's value, or
   * undefined when the token cannot be used; a reuse has revoked the family by then.
   */
  async rotate(
    token: string,
    clientId: string,
  ): Promise<{ record: RefreshTokenRecord; next: string } | undefined> {
    const next = randomId(32)
    const now = nowSeconds(this.clock)
    // A token presented by a client other than its own is refused without being spent.
    const rotation = await this.store.rotateRefreshToken(
      hashRefreshToken(token),
      clientId,
      { hash: hashRefreshToken(next), createdAt: now, expiresAt: now + this.ttl },
      now,
    )
    return rotation.outcome === 'rotated' ? { record: rotation.previous, next } : undefined
  }
}

export function hashRefreshToken(token: string): string {
  return hash('sha256', token, 'base64url')
}
