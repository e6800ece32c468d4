/** Injected time source, so tests can freeze and move time. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

export function nowSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000)
}

/** A clock for tests: starts where told and moves only when told. */
export class ManualClock implements Clock {
  private current: number
  constructor(start = Date.now()) {
    this.current = start
  }
  now(): number {
    return this.current
  }
  advance(ms: number): void {
    this.current += ms
  }
  set(ms: number): void {
    this.current = ms
  }
}
