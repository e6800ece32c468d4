/**
 * Counts failed attempts per key in fixed one-minute windows. The interface is what a shared
 * (Redis) limiter implements for several instances.
 */
export interface FailureLimiter {
  /**
   * Seconds until the key may try again, or 0 when it is not blocked. An in-process limiter
   * answers synchronously, which spares the token path a promise per check.
   */
  blockedFor(key: string, limit: number): number | Promise<number>
  recordFailure(key: string): void | Promise<void>
}

const WINDOW_MS = 60_000

/**
 * Counts in memory, for one instance. Bounded: the keys come from requests (an address, a client
 * id), so past `capacity` keys the oldest windows go first, whether or not they have run out.
 */
export class MemoryFailureLimiter implements FailureLimiter {
  // In the order the windows started: those that have run out are always at the front.
  private readonly windows = new Map<string, { start: number; count: number }>()
  private readonly now: () => number
  private readonly capacity: number

  constructor(now: () => number = Date.now, capacity = 100_000) {
    this.now = now
    this.capacity = capacity
  }

  blockedFor(key: string, limit: number): number {
    const window = this.windows.get(key)
    if (!window) return 0
    const remaining = window.start + WINDOW_MS - this.now()
    if (remaining <= 0) {
      this.windows.delete(key)
      return 0
    }
    return window.count >= limit ? Math.ceil(remaining / 1000) : 0
  }

  recordFailure(key: string): void {
    const now = this.now()
    const window = this.windows.get(key)
    if (window && window.start + WINDOW_MS > now) {
      window.count++
      return
    }
    // A new window goes to the back, keeping the map in the order the windows started.
    this.windows.delete(key)
    this.windows.set(key, { start: now, count: 1 })
    for (const [oldest, { start }] of this.windows) {
      if (start + WINDOW_MS > now && this.windows.size <= this.capacity) break
      this.windows.delete(oldest)
    }
  }

  get size(): number {
    return this.windows.size
  }
}
