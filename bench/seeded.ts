// Seeded clients are derived, not stored: client i's id and secret are HMACs of the seed, so the bench can
// recompute the credentials of any sample of a million clients without a file of secrets. (Keyed one-shot
// SHA-256 rather than createHmac per value: an Hmac object costs ~30 µs to set up, a million of them minutes.)
import { createHmac, hash } from 'node:crypto'

export const DEFAULT_SEED = 'gatehouse-bench'
export const SEEDED_SCOPE = 'bench.read'

export interface SeededCredentials {
  clientId: string
  clientSecret: string
}

export function seededKey(seed: string): Buffer {
  return createHmac('sha256', 'gatehouse-bench-seed').update(seed).digest()
}

// Shaped like Gatehouse's own: a 128-bit id and a 256-bit secret, base64url (22 and 43 characters), so the
// primary-key index sees random keys as it would in production, not an ordered sequence.
export function seededClient(key: Buffer, index: number): SeededCredentials {
  const derive = (label: string) =>
    hash('sha256', Buffer.concat([key, Buffer.from(`${label}:${index}`)]), 'buffer')
  return {
    clientId: derive('id').subarray(0, 16).toString('base64url'),
    clientSecret: derive('secret').toString('base64url'),
  }
}

// `count` indices spread evenly over [0, total), so a sample touches the whole table, not its first rows.
export function spreadIndices(total: number, count: number): number[] {
  const n = Math.min(total, count)
  return Array.from({ length: n }, (_, j) => Math.floor((j * total) / n))
}
