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

export class MemoryFailureLimiter implements FailureLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>()
  private readonly now: () => number

  constructor(now: () => number = Date.now) {
    this.now = now
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
    if (!window || window.start + WINDOW_MS <= now) this.windows.set(key, { start: now, count: 1 })
    else window.count++
    if (this.windows.size > 100_000) this.sweep(now)
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.start + WINDOW_MS <= now) this.windows.delete(key)
  }
}
