import { hash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { CLIENTS_IN_MEMORY, keepWithin } from './bounded.ts'

/*
 * Two hash formats, chosen by where the secret came from:
 * - `s256$salt$digest`: for secrets Gatehouse generated. They carry 256 bits of entropy, so
 *   a salted SHA-256 cannot be brute-forced and keeps the token path cheap (as GitHub and
 *   Stripe do for API keys).
 * - `scrypt$N$r$p$salt$digest`: for secrets an operator imported, whose entropy we cannot
 *   know; a slow KDF is the safe default for them.
 */
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 }

export type SecretOrigin = 'generated' | 'imported'

export async function hashSecret(secret: string, origin: SecretOrigin): Promise<string> {
  if (origin === 'generated') return saltedSha256(secret)
  const salt = randomBytes(16)
  const digest = await scryptAsync(secret, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keylen)
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${digest.toString('base64url')}`
}

function saltedSha256(secret: string): string {
  const salt = randomBytes(16)
  return `s256$${salt.toString('base64url')}$${sha256(salt, secret).toString('base64url')}`
}

/**
 * Imported secrets that have verified against their scrypt hash in this process, by that hash:
 * the secret's salted SHA-256 under a salt drawn here. Without it every token request of an
 * imported client cost a scrypt (tens of milliseconds of CPU), and a wrong secret for such a
 * client took that long to refuse where an unknown id took microseconds. It is kept only in
 * memory, which already holds the master key and the unsealed secrets of signature clients;
 * the database keeps the scrypt hash alone, and online guesses are held back by the failed-
 * attempt limits whatever a check costs. A re-import or rotation is a new stored hash, so
 * nothing goes stale.
 */
const verifiedImported = new Map<string, string>()

/**
 * The synchronous check of a generated secret's hash (salted SHA-256), or of an imported one
 * that has verified in this process; undefined where only the slow, asynchronous KDF can tell.
 */
export function verifySecretFast(secret: string, stored: string): boolean | undefined {
  if (!stored.startsWith('s256$')) {
    const remembered = verifiedImported.get(stored)
    return remembered === undefined ? undefined : verifySecretFast(secret, remembered)
  }
  const parsed = parseSalted(stored)
  if (!parsed) return false
  // Hashed straight from a scratch buffer and read back as a binary string: on the token path this
  // runs once per request, and a fresh Buffer in and out each time cost as much as the hash.
  if (secret.length * 3 > SCRATCH.length - parsed.salt.length) {
    return safeEqual(sha256(parsed.salt, secret), parsed.digest)
  }
  parsed.salt.copy(SCRATCH, 0)
  const end = parsed.salt.length + SCRATCH.write(secret, parsed.salt.length, 'utf8')
  const digest = hash('sha256', SCRATCH.subarray(0, end), 'binary')
  // The presented secret does not stay in memory after its check.
  SCRATCH.fill(0, 0, end)
  return safeEqual(Buffer.from(digest, 'binary'), parsed.digest)
}

const SCRATCH = Buffer.alloc(4096)

interface SaltedHash {
  salt: Buffer
  digest: Buffer
}

// Stored hashes decoded once: the same client's hash is checked on every one of its requests.
// Two a client: while a rotation's grace runs, each request checks the old secret and the new.
const parsedHashes = new Map<string, SaltedHash | null>()

function parseSalted(stored: string): SaltedHash | undefined {
  let parsed = parsedHashes.get(stored)
  if (parsed === undefined) {
    const parts = stored.split('$')
    parsed =
      parts.length === 3
        ? { salt: Buffer.from(parts[1]!, 'base64url'), digest: Buffer.from(parts[2]!, 'base64url') }
        : null
    parsedHashes.set(stored, parsed)
    keepWithin(parsedHashes, 2 * CLIENTS_IN_MEMORY)
  }
  return parsed ?? undefined
}

/** Constant-time check of `secret` against a stored hash. Malformed hashes never match. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const fast = verifySecretFast(secret, stored)
  if (fast !== undefined) return fast
  const parts = stored.split('$')
  if (parts[0] === 'scrypt' && parts.length === 6) {
    const [, n, r, p, salt, digest] = parts as [string, string, string, string, string, string]
    const expected = Buffer.from(digest, 'base64url')
    const actual = await scryptAsync(
      secret,
      Buffer.from(salt, 'base64url'),
      Number(n),
      Number(r),
      Number(p),
      expected.length,
    )
    const valid = safeEqual(actual, expected)
    if (valid) {
      verifiedImported.set(stored, saltedSha256(secret))
      keepWithin(verifiedImported, 2 * CLIENTS_IN_MEMORY)
    }
    return valid
  }
  return false
}

// A well-formed hash that no secret matches.
const NO_SECRET = `s256$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(32).toString('base64url')}`

/**
 * Verifies against a hash that may be missing (an unknown service name or child key) in the
 * same time as against a real one, so the answer's timing does not say which was wrong.
 */
export async function verifySecretOrNothing(secret: string, stored: string | undefined): Promise<boolean> {
  const hash = stored ?? NO_SECRET
  const valid = verifySecretFast(secret, hash) ?? (await verifySecret(secret, hash))
  return valid && stored !== undefined
}

export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Constant-time string comparison that does not leak the length through an early return. */
export function safeEqualString(a: string, b: string): boolean {
  const ha = hash('sha256', a, 'buffer')
  const hb = hash('sha256', b, 'buffer')
  return timingSafeEqual(ha, hb)
}

function sha256(salt: Buffer, secret: string): Buffer {
  // One-shot hashing: on the token path this runs once per request.
  return hash('sha256', Buffer.concat([salt, Buffer.from(secret, 'utf8')]), 'buffer')
}

/**
 * One scrypt at a time, in order. Each holds a thread of libuv's pool for tens of
 * milliseconds, and RS256 signs on that pool: wrong secrets sent under imported client ids
 * from many addresses could otherwise take every thread of it and stall all tokens.
 */
let scryptTail: Promise<unknown> = Promise.resolve()

function scryptAsync(
  secret: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
  keylen: number,
): Promise<Buffer> {
  const run = () =>
    new Promise<Buffer>((resolve, reject) => {
      scrypt(secret, salt, keylen, { N, r, p, maxmem: 64 * 1024 * 1024 }, (error, key) =>
        error ? reject(error) : resolve(key),
      )
    })
  const result = scryptTail.then(run, run)
  scryptTail = result.catch(() => {})
  return result
}
