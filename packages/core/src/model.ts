/*
 * The records Gatehouse keeps. Times are Unix seconds. Records are plain data: every store
 * persists exactly these shapes, and the storage contract suite checks that they round-trip.
 */

export const GRANT_TYPES = [
  'client_credentials',
  'servicekey',
  'csp_credentials',
  'client_pc_credentials',
  'refresh_token',
] as const
export type GrantType = (typeof GRANT_TYPES)[number]

export interface StoredSecret {
  /** See secrets.ts for the formats. */
  hash: string
  createdAt: number
  /** Set on the old secret during a rotation grace period; null means no expiry. */
  expiresAt: number | null
  /**
   * A signature client's old secret during a grace period, sealed under the master key: the
   * client proves a secret by signing with it, so the server must read it (the current one is
   * the record's `sealedSecret`).
   */
  sealed?: string
}

export interface ClientRecord {
  clientId: string
  name: string
  scopes: string[]
  grants: GrantType[]
  /** Access-token lifetime in seconds; null means the endpoint's default. */
  tokenTtl: number | null
  enabled: boolean
  /** A public client holds no secret and may only use the service-key grant. */
  isPublic: boolean
  /** May introspect any token (a resource server). */
  introspect: boolean
  /** May authenticate with the MD5 signature of seed 001. */
  signature: boolean
  secrets: StoredSecret[]
  /** The secret sealed under the master key, kept only for signature clients. */
  sealedSecret: string | null
  /** private_key_jwt (RFC 7523): the client's public keys, inline … */
  jwks: { keys: Record<string, unknown>[] } | null
  /** … or where to fetch them. */
  jwksUri: string | null
  createdAt: number
  updatedAt: number
}

export interface ApiRecord {
  identifier: string
  scopes: string[]
  createdAt: number
}

export type SigningAlgorithm = 'RS256' | 'ES256' | 'EdDSA'

export interface SigningKeyRecord {
  kid: string
  alg: SigningAlgorithm
  /** The public key as a JWK (with kid, alg, use). */
  publicJwk: Record<string, unknown>
  /** The PKCS#8 private key sealed under the master key. */
  sealedPrivateKey: string
  createdAt: number
  /** From this time on the key signs. */
  activatesAt: number
  /** From this time on the key no longer signs; null while it has no successor. */
  retiresAt: number | null
}

/** Seed 000: a named service's key under a client allowed the `servicekey` grant. */
export interface ServiceKeyRecord {
  clientId: string
  serviceName: string
  keyHash: string
  /** What the service may ask for; empty means all of the client's scopes. */
  scopes: string[]
  createdAt: number
}

/** Seed 002: a customer's credential registered under an integrator client. */
export interface ChildRecord {
  childKey: string
  clientId: string
  name: string
  secretHash: string
  enabled: boolean
  createdAt: number
  updatedAt: number
}

/**
 * Seed 003: a refresh-token family. Every token of a family is the family's id followed by a
 * 256-bit secret; the family keeps only the SHA-256 of its current secret, and each use
 * replaces it, so a family is one record however often it is refreshed. A token of a known
 * family whose secret is not the current one was spent before (only a holder of one of the
 * family's tokens knows its id), so presenting it revokes the family (RFC 9700 §4.14.2).
 */
export interface RefreshFamilyRecord {
  familyId: string
  /** SHA-256 (base64url) of the current token's secret. */
  secretHash: string
  clientId: string
  subject: string
  scopes: string[]
  /** When the first token of the family was issued. */
  createdAt: number
  /** When the current token was issued, and when it expires. */
  rotatedAt: number
  expiresAt: number
  revoked: boolean
}

export type RefreshRotation =
  /** The family as it is after this rotation. */
  | { outcome: 'rotated'; family: RefreshFamilyRecord }
  /** The secret was a spent one: the whole family is now revoked. */
  | { outcome: 'reused' }
  /** Unknown, expired, revoked, or another client's. */
  | { outcome: 'invalid' }

export type ChangeKind = 'client' | 'api' | 'key'

/** One entry of the change feed through which other processes learn what to reload. */
export interface Change {
  seq: number
  kind: ChangeKind
  id: string
}
