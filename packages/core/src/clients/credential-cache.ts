import { CLIENTS_IN_MEMORY } from '../bounded.ts'
import type { ChildRecord, ServiceKeyRecord } from '../model.ts'
import type { Store } from '../storage/port.ts'

/**
 * Service keys and child credentials that have been used, kept in memory so that those
 * grants cost no storage read. Only found records are kept (a miss asks the store again), and
 * a 'client' change drops everything of that client: a new, rotated or disabled credential
 * takes effect within a poll of the change feed, as a client's own changes do.
 */
export class CredentialCache {
  private readonly store: Store
  private readonly capacity: number
  private readonly serviceKeys = new Map<string, ServiceKeyRecord>()
  private readonly children = new Map<string, ChildRecord>()

  constructor(store: Store, capacity = CLIENTS_IN_MEMORY) {
    this.store = store
    this.capacity = capacity
  }

  async serviceKey(clientId: string, serviceName: string): Promise<ServiceKeyRecord | undefined> {
    const id = `${clientId}\u0000${serviceName}`
    const cached = this.serviceKeys.get(id)
    if (cached) return cached
    const key = await this.store.getServiceKey(clientId, serviceName)
    if (key) remember(this.serviceKeys, id, key, this.capacity)
    return key
  }

  async child(childKey: string): Promise<ChildRecord | undefined> {
    const cached = this.children.get(childKey)
    if (cached) return cached
    const child = await this.store.getChild(childKey)
    if (child) remember(this.children, childKey, child, this.capacity)
    return child
  }

  invalidate(clientId: string): void {
    for (const [id, key] of this.serviceKeys) if (key.clientId === clientId) this.serviceKeys.delete(id)
    for (const [id, child] of this.children) if (child.clientId === clientId) this.children.delete(id)
  }

  clear(): void {
    this.serviceKeys.clear()
    this.children.clear()
  }
}

function remember<T>(map: Map<string, T>, key: string, value: T, capacity: number): void {
  // Bounded by dropping everything: credentials are few per client, and a refill is a read each.
  if (map.size >= capacity) map.clear()
  map.set(key, value)
}
