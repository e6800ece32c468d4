/**
 * The generators of the fuzz tests (test/e2e/hostile-input.test.ts, packages/verify/test/fuzz.test.ts):
 * mulberry32, small, fast and good enough to pick mutations. What matters is that a seed replays
 * a run exactly, so that a failure found once can be found again.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One of `items`, drawn with `next`. */
export function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!
}

/** The seed and count a fuzz test runs with: its defaults, or FUZZ_SEED and FUZZ_COUNT. */
export function fuzzSettings(defaults: { seed: number; count: number }): { seed: number; count: number } {
  return {
    seed: Number(process.env.FUZZ_SEED ?? defaults.seed) >>> 0,
    count: Number(process.env.FUZZ_COUNT ?? defaults.count),
  }
}
