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

export type ChangeKind = 'client' | 'api' | 'key'

/** One entry of the change feed through which other processes learn what to reload. */
export interface Change {
  seq: number
  kind: ChangeKind
  id: string
}
