import { randomBytes, randomFillSync } from 'node:crypto'

/** A URL-safe random string carrying `bytes` bytes of entropy (32 bytes = 256 bits). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

/**
 * A URL-safe identifier (client id, child key) with `bytes` of entropy that starts with a
 * letter or digit, so that it is never mistaken for a command-line option.
 */
export function randomIdentifier(bytes = 16): string {
  for (;;) {
    const id = randomToken(bytes)
    if (/^[A-Za-z0-9]/.test(id)) return id
  }
}

/*
 * Values drawn per request (a token's jti, a refresh token) come from a pool refilled 4 KiB at
 * a time: the same CSPRNG, without a system call per request.
 */
const POOL_SIZE = 4096
const pool = Buffer.alloc(POOL_SIZE)
let offset = POOL_SIZE

/** `bytes` random bytes (16 by default, 128 bits), URL-safe, from the pool. */
export function randomId(bytes = 16): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool)
    offset = 0
  }
  const id = pool.toString('base64url', offset, offset + bytes)
  // Spent bytes are wiped, so the pool never holds a value that was handed out.
  pool.fill(0, offset, offset + bytes)
  offset += bytes
  return id
}
