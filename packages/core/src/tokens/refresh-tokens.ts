import { hash } from 'node:crypto'
import { keepWithin } from '../bounded.ts'
import { type Clock, nowSeconds } from '../clock.ts'
import type { RefreshTokenRecord } from '../model.ts'
import { randomId } from '../random.ts'
import type { Store } from '../storage/port.ts'

/**
 * Opaque refresh tokens: 256 random bits, stored as their SHA-256 (a fast hash suffices for
 * a value of that entropy, and lets the token be looked up by it).
 *
 * The owners of the tokens this server issued are remembered (bounded, oldest out), so the
 * usual refresh, of a token issued here, does not read the store to find its client. That is
 * safe because a token's owner never changes: whether it may still be used is decided by
 * `rotate`, in the store, every time.
 */
export class RefreshTokenService {
  private readonly store: Store
  private readonly clock: Clock
  private readonly ttl: number
  private readonly owners = new Map<string, string>()
  private readonly capacity: number

  constructor(options: { store: Store; clock: Clock; ttl: number; ownerCacheSize?: number }) {
    this.store = options.store
    this.clock = options.clock
    this.ttl = options.ttl
    this.capacity = options.ownerCacheSize ?? 100_000
  }

  async issue(grant: { clientId: string; subject: string; scopes: readonly string[] }): Promise<string> {
    const token = randomId(32)
    const hash = hashRefreshToken(token)
    const now = nowSeconds(this.clock)
    await this.store.insertRefreshToken({
      hash,
      familyId: randomId(16),
      clientId: grant.clientId,
      subject: grant.subject,
      scopes: [...grant.scopes],
      createdAt: now,
      expiresAt: now + this.ttl,
      spentAt: null,
      revoked: false,
    })
    this.remember(hash, grant.clientId)
    return token
  }

  /**
   * The client a refresh token was issued to, live or not: a spent token must still reach
   * `rotate`, where its reuse revokes the family.
   */
  async ownerOf(token: string): Promise<string | undefined> {
    const hash = hashRefreshToken(token)
    return this.owners.get(hash) ?? (await this.store.getRefreshToken(hash))?.clientId
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
    const hash = hashRefreshToken(token)
    const nextHash = hashRefreshToken(next)
    const now = nowSeconds(this.clock)
    // A token presented by a client other than its own is refused without being spent.
    const rotation = await this.store.rotateRefreshToken(
      hash,
      clientId,
      { hash: nextHash, createdAt: now, expiresAt: now + this.ttl },
      now,
    )
    if (rotation.outcome !== 'rotated') return undefined
    // A spent token is only ever presented again by mistake or by a thief; the store answers that.
    this.owners.delete(hash)
    this.remember(nextHash, rotation.previous.clientId)
    return { record: rotation.previous, next }
  }

  private remember(hash: string, clientId: string): void {
    this.owners.set(hash, clientId)
    keepWithin(this.owners, this.capacity)
  }
}

export function hashRefreshToken(token: string): string {
  return hash('sha256', token, 'base64url')
}
