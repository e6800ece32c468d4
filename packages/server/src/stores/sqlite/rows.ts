// The mapping between Gatehouse's records and the SQLite tables' rows.
import type { SQLInputValue } from 'node:sqlite'
import type { ChildRecord, ClientRecord, RefreshFamilyRecord } from '@gatehouse/core'

/** A row as node:sqlite returns it. */
export type Row = Record<string, SQLInputValue>

/** The clients table's columns, in the order of clientRow (bulk loaders use both). */
export const CLIENT_COLUMNS = [
  'client_id',
  'name',
  'scopes',
  'grants',
  'token_ttl',
  'enabled',
  'is_public',
  'introspect',
  'signature',
  'secrets',
  'sealed_secret',
  'created_at',
  'updated_at',
  'jwks',
  'jwks_uri',
] as const

export function clientRow(c: ClientRecord): SQLInputValue[] {
  return [
    c.clientId,
    c.name,
    JSON.stringify(c.scopes),
    JSON.stringify(c.grants),
    c.tokenTtl,
    c.enabled ? 1 : 0,
    c.isPublic ? 1 : 0,
    c.introspect ? 1 : 0,
    c.signature ? 1 : 0,
    JSON.stringify(c.secrets),
    c.sealedSecret,
    c.createdAt,
    c.updatedAt,
    c.jwks === null ? null : JSON.stringify(c.jwks),
    c.jwksUri,
  ]
}

export function childRow(c: ChildRecord): SQLInputValue[] {
  return [c.childKey, c.clientId, c.name, c.secretHash, c.enabled ? 1 : 0, c.createdAt, c.updatedAt]
}

export function toChild(row: Row): ChildRecord {
  return {
    childKey: String(row.child_key),
    clientId: String(row.client_id),
    name: String(row.name),
    secretHash: String(row.secret_hash),
    enabled: row.enabled === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}

export const REFRESH_FAMILY_COLUMNS = [
  'family_id',
  'secret_hash',
  'client_id',
  'subject',
  'scopes',
  'created_at',
  'rotated_at',
  'expires_at',
  'revoked',
] as const

export function refreshFamilyRow(f: RefreshFamilyRecord): SQLInputValue[] {
  return [
    f.familyId,
    f.secretHash,
    f.clientId,
    f.subject,
    JSON.stringify(f.scopes),
    f.createdAt,
    f.rotatedAt,
    f.expiresAt,
    f.revoked ? 1 : 0,
  ]
}

export function toRefreshFamily(row: Row): RefreshFamilyRecord {
  return {
    familyId: String(row.family_id),
    secretHash: String(row.secret_hash),
    clientId: String(row.client_id),
    subject: String(row.subject),
    scopes: JSON.parse(String(row.scopes)),
    createdAt: Number(row.created_at),
    rotatedAt: Number(row.rotated_at),
    expiresAt: Number(row.expires_at),
    revoked: row.revoked === 1,
  }
}

export function toClient(row: Row): ClientRecord {
  return {
    clientId: String(row.client_id),
    name: String(row.name),
    scopes: JSON.parse(String(row.scopes)),
    grants: JSON.parse(String(row.grants)),
    tokenTtl: row.token_ttl === null ? null : Number(row.token_ttl),
    enabled: row.enabled === 1,
    isPublic: row.is_public === 1,
    introspect: row.introspect === 1,
    signature: row.signature === 1,
    secrets: JSON.parse(String(row.secrets)),
    sealedSecret: row.sealed_secret === null ? null : String(row.sealed_secret),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    jwks: row.jwks === null || row.jwks === undefined ? null : JSON.parse(String(row.jwks)),
    jwksUri: row.jwks_uri === null || row.jwks_uri === undefined ? null : String(row.jwks_uri),
  }
}
