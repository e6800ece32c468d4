// The window that bench/budget.ts and bench/profile.ts read inside a wrk run: from 1 s after the run starts
// to 0.5 s before it ends, over the requests the server's own /metrics counted there. Read from the start,
// the seconds wrk spends formatting a run's bodies (before its timer starts) would count as the server's.
import { setTimeout as sleep } from 'node:timers/promises'
import { DIALECTS, type Dialect, parseDialect } from './dialects.ts'
import type { LoadResult } from './load.ts'
import { listOption, positive } from './options.ts'
import { type Alg, parseAlg } from './servers/jwt.ts'

const SKIP_START_SEC = 1
const SKIP_END_SEC = 0.5

/** The sum of the server's token request counter over every endpoint, grant and outcome. */
export function countedRequests(metrics: string): number {
  let total = 0
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('gatehouse_token_requests_total')) continue
    total += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return total
}

/** The token requests the server at `baseUrl` has counted so far. */
export async function requestsCounted(baseUrl: string): Promise<number> {
  return countedRequests(await (await fetch(`${baseUrl}/metrics`)).text())
}

/**
 * Calls `read` at the window's start and end inside `run`, a wrk run of `durationSec`, and answers both
 * readings, the seconds between them and the run's result.
 */
export async function insideRun<T>(
  run: Promise<LoadResult>,
  durationSec: number,
  read: () => Promise<T>,
): Promise<{ before: T; after: T; seconds: number; result: LoadResult }> {
  // A run that fails during the window is reported by the `await run` below, not as an unhandled rejection.
  run.catch(() => undefined)
  await sleep(SKIP_START_SEC * 1000)
  const before = await read()
  const started = performance.now()
  await sleep((durationSec - SKIP_START_SEC - SKIP_END_SEC) * 1000)
  const after = await read()
  const seconds = (performance.now() - started) / 1000
  return { before, after, seconds, result: await run }
}

/** The options both scripts take: the algorithm, the dialect rows and a run long enough for the window. */
export function rowOptions(
  values: { alg: string; rows: string; duration: string },
  defaultDuration: number,
): { alg: Alg; rows: Dialect[]; duration: number } {
  const duration = positive(values.duration, defaultDuration, 'duration')
  if (duration <= SKIP_START_SEC + SKIP_END_SEC + 1) throw new Error('--duration must be more than 2.5 s')
  return { alg: parseAlg(values.alg), rows: listOption(values.rows, DIALECTS, parseDialect), duration }
}
