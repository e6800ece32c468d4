import {
  type ApiRecord,
  type ChildRecord,
  type ClientRecord,
  keyState,
  type ServiceKeyRecord,
  type SigningKeyRecord,
  unpublishesAt,
} from '@gatehouse/core'

/** The public shapes of records, as the CLI's --json and the admin API show them. Never a hash. */
export function clientView(client: ClientRecord, secret?: string): Record<string, unknown> {
  return {
    client_id: client.clientId,
    ...(secret !== undefined ? { client_secret: secret } : {}),
    name: client.name,
    scopes: client.scopes,
    grants: client.grants,
    enabled: client.enabled,
    token_ttl: client.tokenTtl,
    public: client.isPublic,
    signature: client.signature,
    introspect: client.introspect,
    auth_method: client.isPublic
      ? 'none'
      : client.jwks || client.jwksUri
        ? 'private_key_jwt'
        : 'client_secret',
    jwks_uri: client.jwksUri,
    secrets: client.secrets.map((s) => ({
      created_at: iso(s.createdAt),
      expires_at: s.expiresAt === null ? null : iso(s.expiresAt),
    })),
    created_at: iso(client.createdAt),
    updated_at: iso(client.updatedAt),
  }
}

export function keyView(key: SigningKeyRecord, now: number, maxTtl: number): Record<string, unknown> {
  const until = unpublishesAt(key, maxTtl)
  return {
    kid: key.kid,
    alg: key.alg,
    state: keyState(key, now),
    created_at: iso(key.createdAt),
    activates_at: iso(key.activatesAt),
    retires_at: key.retiresAt === null ? null : iso(key.retiresAt),
    published_until: until === null ? null : iso(until),
  }
}

export function apiView(api: ApiRecord): Record<string, unknown> {
  return { identifier: api.identifier, scopes: api.scopes, created_at: iso(api.createdAt) }
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString()
}

export function serviceKeyView(key: ServiceKeyRecord, serviceKey?: string): Record<string, unknown> {
  return {
    service_name: key.serviceName,
    ...(serviceKey !== undefined ? { service_key: serviceKey } : {}),
    client_id: key.clientId,
    scopes: key.scopes,
    created_at: iso(key.createdAt),
  }
}

export function childView(child: ChildRecord, childSecret?: string): Record<string, unknown> {
  return {
    child_key: child.childKey,
    ...(childSecret !== undefined ? { child_secret: childSecret } : {}),
    client_id: child.clientId,
    name: child.name,
    enabled: child.enabled,
    created_at: iso(child.createdAt),
  }
}
