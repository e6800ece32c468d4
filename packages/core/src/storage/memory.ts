import { isDeepStrictEqual } from 'node:util'
import { type Clock, nowSeconds, systemClock } from '../clock.ts'
import { ConflictError } from '../errors.ts'
import type {
  ApiRecord,
  Change,
  ChangeKind,
  ChildRecord,
  ClientRecord,
  RefreshFamilyRecord,
  RefreshRotation,
  ServiceKeyRecord,
  SigningKeyRecord,
} from '../model.ts'
import type { ClientCursor, Store } from './port.ts'

/** A store in process memory: for tests and for trying Gatehouse without a disk. */
export class MemoryStore implements Store {
  private readonly clients = new Map<string, ClientRecord>()
  private readonly apis = new Map<string, ApiRecord>()
  private readonly keys = new Map<string, SigningKeyRecord>()
  private readonly serviceKeys = new Map<string, ServiceKeyRecord>()
  private readonly children = new Map<string, ChildRecord>()
  private readonly refreshFamilies = new Map<string, RefreshFamilyRecord>()
  private readonly revokedJtis = new ExpiringKeys()
  private readonly changes: Change[] = []
  private readonly used = new ExpiringKeys()
  private readonly clock: Clock

  /** Expiries are kept in whole Unix seconds, read off `clock` as every core service reads it. */
  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock
  }

  async getClient(clientId: string) {
    return copy(this.clients.get(clientId))
  }
  async listClients({ after, limit }: { after?: ClientCursor; limit: number }) {
    return [...this.clients.values()]
      .filter((c) => !after || compareCreation(c, after) > 0)
      .sort(compareCreation)
      .slice(0, limit)
      .map((c) => copy(c)!)
  }
  async countClients() {
    return this.clients.size
  }
  async insertClient(client: ClientRecord) {
    if (this.clients.has(client.clientId)) throw new ConflictError(`client ${client.clientId} exists`)
    this.clients.set(client.clientId, copy(client)!)
    this.record('client', client.clientId)
  }
  async updateClient(client: ClientRecord, previous: ClientRecord) {
    const current = this.clients.get(client.clientId)
    if (!current || !isDeepStrictEqual(current, previous)) return false
    this.clients.set(client.clientId, copy(client)!)
    this.record('client', client.clientId)
    return true
  }
  async deleteClient(clientId: string) {
    const deleted = this.clients.delete(clientId)
    if (!deleted) return false
    for (const map of [this.serviceKeys, this.children, this.refreshFamilies] as Map<
      string,
      { clientId: string }
    >[]) {
      for (const [key, value] of map) if (value.clientId === clientId) map.delete(key)
    }
    this.record('client', clientId)
    return true
  }

  async getServiceKey(clientId: string, serviceName: string) {
    return copy(this.serviceKeys.get(serviceKeyId(clientId, serviceName)))
  }
  async insertServiceKey(key: ServiceKeyRecord) {
    const id = serviceKeyId(key.clientId, key.serviceName)
    if (this.serviceKeys.has(id)) throw new ConflictError(`service ${key.serviceName} exists`)
    this.serviceKeys.set(id, copy(key)!)
    this.record('client', key.clientId)
  }
  async deleteServiceKey(clientId: string, serviceName: string) {
    if (!this.serviceKeys.delete(serviceKeyId(clientId, serviceName))) return false
    this.record('client', clientId)
    return true
  }

  async getChild(childKey: string) {
    return copy(this.children.get(childKey))
  }
  async insertChild(child: ChildRecord) {
    if (this.children.has(child.childKey)) throw new ConflictError(`child ${child.childKey} exists`)
    this.children.set(child.childKey, copy(child)!)
    this.record('client', child.clientId)
  }
  async updateChild(child: ChildRecord) {
    if (!this.children.has(child.childKey)) return false
    this.children.set(child.childKey, copy(child)!)
    this.record('client', child.clientId)
    return true
  }

  async getRefreshFamily(familyId: string) {
    return copy(this.refreshFamilies.get(familyId))
  }
  async insertRefreshFamily(family: RefreshFamilyRecord) {
    if (this.refreshFamilies.has(family.familyId)) throw new ConflictError('refresh family exists')
    this.refreshFamilies.set(family.familyId, copy(family)!)
  }
  async rotateRefreshFamily(
    familyId: string,
    secretHash: string,
    clientId: string,
    next: Pick<RefreshFamilyRecord, 'secretHash' | 'rotatedAt' | 'expiresAt'>,
    now: number,
  ): Promise<RefreshRotation> {
    // No await between read and write: JavaScript runs this to the end, so it is atomic.
    const current = this.refreshFamilies.get(familyId)
    if (!current || current.clientId !== clientId || current.revoked || current.expiresAt <= now) {
      return { outcome: 'invalid' }
    }
    if (current.secretHash !== secretHash) {
      current.revoked = true
      return { outcome: 'reused' }
    }
    Object.assign(current, next)
    return { outcome: 'rotated', family: copy(current)! }
  }
  async revokeRefreshFamily(familyId: string) {
    const family = this.refreshFamilies.get(familyId)
    if (family) family.revoked = true
  }
  async trimRefreshFamilies(clientId: string, keep: number) {
    const newestFirst = [...this.refreshFamilies.values()]
      .filter((f) => f.clientId === clientId)
      .sort((a, b) => b.createdAt - a.createdAt || (a.familyId < b.familyId ? 1 : -1))
    for (const family of newestFirst.slice(keep)) this.refreshFamilies.delete(family.familyId)
    return Math.max(0, newestFirst.length - keep)
  }

  async revokeAccessToken(jti: string, expiresAt: number) {
    this.revokedJtis.set(jti, expiresAt, nowSeconds(this.clock))
  }
  async isAccessTokenRevoked(jti: string, now: number) {
    const until = this.revokedJtis.expiresAt(jti)
    return until !== undefined && until > now
  }

  async listApis() {
    return [...this.apis.values()].map((a) => copy(a)!)
  }
  async insertApi(api: ApiRecord) {
    if (this.apis.has(api.identifier)) throw new ConflictError(`API ${api.identifier} exists`)
    this.apis.set(api.identifier, copy(api)!)
    this.record('api', api.identifier)
  }

  async listSigningKeys() {
    return [...this.keys.values()].map((k) => copy(k)!).sort((a, b) => a.createdAt - b.createdAt)
  }
  async insertSigningKey(key: SigningKeyRecord) {
    if (this.keys.has(key.kid)) throw new ConflictError(`key ${key.kid} exists`)
    this.keys.set(key.kid, copy(key)!)
    this.record('key', key.kid)
  }
  async retireSigningKeys(kids: string[], retiresAt: number) {
    for (const kid of kids) {
      const key = this.keys.get(kid)
      if (!key) continue
      key.retiresAt = retiresAt
      this.record('key', kid)
    }
  }

  async latestChange() {
    return this.changes.at(-1)?.seq ?? 0
  }
  async changesSince(seq: number, limit: number) {
    return this.changes.filter((c) => c.seq > seq).slice(0, limit)
  }

  async consumeOnce(key: string, expiresAt: number) {
    const now = nowSeconds(this.clock)
    const until = this.used.expiresAt(key)
    if (until !== undefined && until > now) return false
    this.used.set(key, expiresAt, now)
    return true
  }

  async ping() {}
  async close() {}

  private record(kind: ChangeKind, id: string) {
    this.changes.push({ seq: this.changes.length + 1, kind, id })
  }
}

function serviceKeyId(clientId: string, serviceName: string): string {
  return JSON.stringify([clientId, serviceName])
}

function compareCreation(a: ClientCursor, b: ClientCursor): number {
  return a.createdAt - b.createdAt || (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0)
}

function copy<T>(value: T | undefined): T | undefined {
  return value === undefined ? undefined : structuredClone(value)
}

/**
 * Keys with an expiry, the expired swept out once the map has doubled since the last sweep.
 * Sweeping on every insert past a fixed size walked all live keys each time: a millisecond
 * per replay check with 30,000 live keys.
 */
class ExpiringKeys {
  private readonly entries = new Map<string, number>()
  private sweepAbove = SWEEP_AT_LEAST

  expiresAt(key: string): number | undefined {
    return this.entries.get(key)
  }

  set(key: string, expiresAt: number, now: number): void {
    this.entries.set(key, expiresAt)
    if (this.entries.size <= this.sweepAbove) return
    for (const [k, t] of this.entries) if (t <= now) this.entries.delete(k)
    this.sweepAbove = Math.max(SWEEP_AT_LEAST, this.entries.size * 2)
  }
}

const SWEEP_AT_LEAST = 10_000
