// The measurement loop the dialect and client-count modes share with the main table: sample tokens verified
// before and after, one warm-up each, then measured runs round-robin across contenders so that machine noise
// lands on all of them, and each figure's median over the runs reported.
import { withCpu } from './cpu.ts'
import { type CannonPlan, type DriverName, type LoadResult, runCannon, runPlan } from './load.ts'
import type { Alg } from './servers/jwt.ts'
import { type FetchToken, verifyTokens } from './verify.ts'

export interface Measured {
  status: 'ok' | 'failed' | 'skipped'
  note?: string
  median?: LoadResult
  runs: LoadResult[]
  // Summed over every measured run, not just the median one, so a flaky run cannot hide.
  errors: number
  tokensChecked: number
  tokensValid: number
  // With a baseline (see measureRoundRobin): each run's req/s ÷ the mean of the baseline's runs just before and
  // just after it.
  baselineRatios?: number[]
}

export interface Contender {
  label: string
  // A fresh plan per run: refresh chains are re-seeded, signature times re-based.
  plan: () => Promise<CannonPlan>
  fetchToken: FetchToken
  jwksUrl: string
  result: Measured
  // Requests to send once before the warm-up, e.g. one per client id so that the server's caches are warm.
  primeRequests?: number
  // The server's process, whose CPU per request each run reports.
  pid?: number
}

export interface RoundSettings {
  // wrk runs plans that repeat one request (with a rotating header at most) or carry a `wrk` form.
  driver: DriverName
  workDir: string
  connections: number
  runs: number
  durationSec: number
  warmupSec: number
  sample: number
}

export function emptyMeasured(): Measured {
  return { status: 'ok', runs: [], errors: 0, tokensChecked: 0, tokensValid: 0 }
}

export function progress(message: string): void {
  process.stderr.write(`${message}\n`)
}

/**
 * Each figure the median over the runs, and the counts summed. A run's p99 is its slowest few hundred
 * requests, which a stall at the start of one run sets alone (a server idle for the ten seconds the others
 * take read 8-12 ms where its next run read 5), so the p99 of one chosen run, as the median-throughput run
 * reported before, moved with whichever run that was.
 */
export function medianOfRuns(results: readonly LoadResult[]): LoadResult | undefined {
  if (results.length === 0) return undefined
  const mid = (pick: (r: LoadResult) => number) => median(results.map(pick)) ?? 0
  const sum = (pick: (r: LoadResult) => number) => results.reduce((total, r) => total + pick(r), 0)
  const cpu = results.every((r) => r.cpu)
  return {
    rps: mid((r) => r.rps),
    p50Ms: mid((r) => r.p50Ms),
    p99Ms: mid((r) => r.p99Ms),
    requests: sum((r) => r.requests),
    errors: sum((r) => r.errors),
    detail: {
      non2xx: sum((r) => r.detail.non2xx),
      socket: sum((r) => r.detail.socket),
      timeouts: sum((r) => r.detail.timeouts),
      invalidBody: sum((r) => r.detail.invalidBody),
    },
    durationSec: sum((r) => r.durationSec),
    ...(cpu ? { cpu: { totalUs: mid((r) => r.cpu!.totalUs), mainUs: mid((r) => r.cpu!.mainUs) } } : {}),
  }
}

// Each round's ratio of `row` to `base`, in round order. Run i of every contender was measured in the same
// round, seconds apart: the median of the per-round ratios cancels drift in the machine's speed over the
// invocation, which a ratio of two medians does not. A row measured between runs of the baseline has its own
// ratios, which cancel drift within the round too.
export function pairedRatios(row: Measured, base: Measured): number[] {
  if (row.baselineRatios?.length) return row.baselineRatios
  const n = Math.min(row.runs.length, base.runs.length)
  const ratios: number[] = []
  for (let i = 0; i < n; i++) {
    const b = base.runs[i]?.rps ?? 0
    if (b > 0) ratios.push((row.runs[i]?.rps ?? 0) / b)
  }
  return ratios
}

/**
 * A row against its baseline: the paired ratios (none when either failed or there is no baseline), and whether
 * either had errors, which withholds the verdict (see verdictCell).
 */
export function comparedTo(
  row: Measured,
  base: Measured | undefined,
): { ratios: number[]; hadErrors: boolean } {
  if (!base || row.status !== 'ok' || base.status !== 'ok') return { ratios: [], hadErrors: false }
  return { ratios: pairedRatios(row, base), hadErrors: row.errors + base.errors > 0 }
}

export function median(values: readonly number[]): number | undefined {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

function fail(c: Contender, tag: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err)
  c.result.status = 'failed'
  c.result.note = message.split('\n')[0]
  progress(`${tag} ${c.label} FAILED: ${message}`)
}

const failures = new WeakMap<Contender, string[]>()

async function verifyInto(c: Contender, alg: Alg, count: number): Promise<void> {
  const r = await verifyTokens(c.fetchToken, c.jwksUrl, alg, count)
  c.result.tokensChecked += r.checked
  c.result.tokensValid += r.valid
  failures.set(c, [...(failures.get(c) ?? []), ...r.failures])
}

/**
 * With a `baseline`, every run of another contender sits between two runs of the baseline (B X B Y B …), and
 * its ratio to the mean of those two goes to `baselineRatios`: on a host whose speed moves by a third within a
 * round, a run seconds away from the baseline's in the same round is not a fair comparison.
 */
export async function measureRoundRobin(
  contenders: Contender[],
  alg: Alg,
  s: RoundSettings,
  tag: string,
  baseline?: Contender,
): Promise<void> {
  const live = () => contenders.filter((c) => c.result.status === 'ok')
  for (const c of contenders) {
    try {
      await verifyInto(c, alg, Math.ceil(s.sample / 2))
      if (c.result.tokensValid === 0)
        throw new Error(`no valid token before load: ${failures.get(c)?.[0] ?? 'unknown'}`)
    } catch (err) {
      fail(c, tag, err)
    }
  }
  for (const c of live()) {
    try {
      if (c.primeRequests) {
        progress(`${tag} ${c.label}: priming with ${c.primeRequests} requests`)
        const primed = await runCannon(await c.plan(), s.connections, 0, c.primeRequests)
        if (primed.errors) throw new Error(`${primed.errors} errors while priming`)
      }
      progress(`${tag} ${c.label}: warm-up ${s.warmupSec} s`)
      await runPlan(s.driver, await c.plan(), s.connections, s.warmupSec, s.workDir)
    } catch (err) {
      fail(c, tag, err)
    }
  }
  const runOnce = async (c: Contender, i: number): Promise<LoadResult | undefined> => {
    try {
      const plan = await c.plan()
      const result = await withCpu(c.pid, () =>
        runPlan(s.driver, plan, s.connections, s.durationSec, s.workDir),
      )
      c.result.runs.push(result)
      c.result.errors += result.errors
      progress(
        `${tag} ${c.label}: run ${i}/${s.runs}: ${Math.round(result.rps)} req/s, ` +
          `p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.errors} errors`,
      )
      return result
    } catch (err) {
      fail(c, tag, err)
      return undefined
    }
  }
  for (let i = 1; i <= s.runs; i++) {
    // Each round starts one contender further on, so that none always runs first (or last) in its round.
    const order = live().filter((c) => c !== baseline)
    const shift = (i - 1) % Math.max(1, order.length)
    const rotated = [...order.slice(shift), ...order.slice(0, shift)]
    if (baseline?.result.status !== 'ok') {
      for (const c of rotated) await runOnce(c, i)
      continue
    }
    let before = await runOnce(baseline, i)
    for (const c of rotated) {
      const result = await runOnce(c, i)
      const after = await runOnce(baseline, i)
      if (result && before && after && before.rps + after.rps > 0) {
        c.result.baselineRatios ??= []
        c.result.baselineRatios.push(result.rps / ((before.rps + after.rps) / 2))
      }
      before = after
    }
  }
  for (const c of live()) {
    await verifyInto(c, alg, Math.floor(s.sample / 2))
    const failed = failures.get(c) ?? []
    if (failed.length) c.result.note = `${failed.length} sampled token(s) invalid, first: ${failed[0]}`
    c.result.median = medianOfRuns(c.result.runs)
  }
}
