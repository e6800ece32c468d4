import type { SigningKeyRecord } from '../model.ts'

export type KeyState = 'next' | 'active' | 'retired'

export function keyState(key: SigningKeyRecord, now: number): KeyState {
  if (neverSigns(key) || (key.retiresAt !== null && now >= key.retiresAt)) return 'retired'
  if (now < key.activatesAt) return 'next'
  return 'active'
}

/**
 * A key retired before it activated: a waiting key that `keys rotate --now` superseded. It is
 * no next key, and no measure of when the keys were last rotated. (Times are in seconds: a key
 * that activated and retired within one second may have signed in it.)
 */
export function neverSigns(key: SigningKeyRecord): boolean {
  return key.retiresAt !== null && key.retiresAt < key.activatesAt
}

/**
 * A retired key stays published until every token it signed has expired: it signed nothing
 * after `retiresAt`, and no token lives longer than `maxTtl`.
 */
export function unpublishesAt(key: SigningKeyRecord, maxTtl: number): number | null {
  return key.retiresAt === null ? null : key.retiresAt + maxTtl
}

export function isPublished(key: SigningKeyRecord, now: number, maxTtl: number): boolean {
  const until = unpublishesAt(key, maxTtl)
  return until === null || now < until
}

/** The key that signs at `now`: the active key that activated last. */
export function currentSigner(keys: readonly SigningKeyRecord[], now: number): SigningKeyRecord | undefined {
  let best: SigningKeyRecord | undefined
  for (const key of keys) {
    if (keyState(key, now) !== 'active') continue
    if (!best || key.activatesAt > best.activatesAt) best = key
  }
  return best
}
