import { CLIENTS_IN_MEMORY, keepWithin } from '../bounded.ts'
import type { ClientRecord } from '../model.ts'
import type { Store } from '../storage/port.ts'

/**
 * Clients by id, cached in memory so the token path does not touch storage once a client is
 * known. Bounded (least recently used first out), with misses cached too so that floods of
 * unknown ids do not reach the database. The change feed invalidates entries.
 */
export class ClientDirectory {
  private readonly cache = new Map<string, ClientRecord | null>()
  private readonly store: Store
  private readonly capacity: number

  constructor(store: Store, capacity = CLIENTS_IN_MEMORY) {
    this.store = store
    this.capacity = capacity
  }

  /**
   * The client from memory when it is cached, without a promise (the token path's usual
   * case); else the promise of reading it from the store.
   */
  find(clientId: string): ClientRecord | undefined | Promise<ClientRecord | undefined> {
    const cached = this.cache.get(clientId)
    return cached === undefined ? this.get(clientId) : (cached ?? undefined)
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const cached = this.cache.get(clientId)
    if (cached !== undefined) {
      // Re-insert to mark it recently used (Map keeps insertion order).
      this.cache.delete(clientId)
      this.cache.set(clientId, cached)
      return cached ?? undefined
    }
    const client = await this.store.getClient(clientId)
    this.remember(clientId, client ?? null)
    return client
  }

  invalidate(clientId: string): void {
    this.cache.delete(clientId)
  }

  clear(): void {
    this.cache.clear()
  }

  get size(): number {
    return this.cache.size
  }

  private remember(clientId: string, client: ClientRecord | null): void {
    this.cache.set(clientId, client)
    keepWithin(this.cache, this.capacity)
  }
}
