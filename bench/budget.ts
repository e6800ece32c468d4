// Where a token request's time goes on the whole machine, dialect by dialect: per request, the CPU of each
// of the server's threads (by name), of the load driver (wrk), and the time the CPUs sat idle. On a
// two-core machine the server, its signing thread and the driver share the cores, so a row can lose
// throughput to idle time as well as to work: a dialect that adds a few µs to the event loop can leave
// both cores waiting on each other (BENCHMARKS.md). The figures are read inside each wrk run, from 1 s
// after it starts to 0.5 s before it ends, over the requests the server's own /metrics counted there,
// so that wrk's start-up and the server's warming up do not count.
//
//   npx node bench/budget.ts [--alg EdDSA] [--rows standard,signature,refresh] [--rounds 3] [--duration 5]
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { idleSeconds, processSeconds, threadSeconds } from './cpu.ts'
import { type Dialect, startDialectServer } from './dialects.ts'
import { detectDriver, runPlan } from './load.ts'
import { positive } from './options.ts'
import { median, progress } from './rounds.ts'
import { alignColumns, fmt } from './table.ts'
import { insideRun, requestsCounted, rowOptions } from './window.ts'

const USAGE =
  'usage: npx node bench/budget.ts [--alg EdDSA] [--rows standard,signature,refresh] [--rounds 3] [--duration 5]'
const CONNECTIONS = 50

/** One run's window: µs per request by column, and the server's rate in it. */
interface Window {
  us: Map<string, number>
  rps: number
}

/** What the machine had done by one reading. */
export interface Reading {
  requests: number
  threads: Map<string, number>
  driver: number
  idle: number
}

/** A row's medians: the whole machine's µs per request, the idle part of it, and req/s. */
export interface RowShare {
  sum: number
  idle: number
  rps: number
}

/**
 * Each row against the first: as measured (req/s), and as it would be if no core ever sat idle
 * (the first row's work ÷ this row's). When the second is below a target too, the row's own
 * work is what misses it, and less waiting could not make it up.
 */
export function againstFirst(rows: readonly RowShare[]): { measured: number; workOnly: number }[] {
  const first = rows[0]
  if (!first) return []
  return rows.map((row) => ({
    measured: row.rps / first.rps,
    workOnly: (first.sum - first.idle) / (row.sum - row.idle),
  }))
}

/** µs per request of each thread, the driver and idle, from two readings inside one run. */
export function perRequest(before: Reading, after: Reading): Map<string, number> {
  const requests = after.requests - before.requests
  if (requests <= 0) throw new Error('the server counted no requests in the window')
  const us = (seconds: number) => (seconds * 1e6) / requests
  const out = new Map<string, number>()
  for (const [name, seconds] of after.threads) out.set(name, us(seconds - (before.threads.get(name) ?? 0)))
  out.set('driver', us(after.driver - before.driver))
  out.set('idle', us(after.idle - before.idle))
  return out
}

async function read(baseUrl: string, pid: number, driverPid: number): Promise<Reading> {
  return {
    requests: await requestsCounted(baseUrl),
    threads: threadSeconds(pid),
    driver: processSeconds(driverPid),
    idle: idleSeconds(),
  }
}

function driverPid(): number {
  const out = execFileSync('pgrep', ['-P', String(process.pid), '-x', 'wrk'], { encoding: 'utf8' })
  const pid = Number(out.trim().split('\n')[0])
  if (!Number.isInteger(pid)) throw new Error('wrk is not running')
  return pid
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      alg: { type: 'string', default: 'EdDSA' },
      rows: { type: 'string', default: 'standard,signature,refresh' },
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '5' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return
  }
  const { alg, rows, duration } = rowOptions(values, 5)
  const rounds = positive(values.rounds, 3, 'rounds')
  if (detectDriver() !== 'wrk') throw new Error("bench/budget.ts reads wrk's CPU: apt-get install -y wrk")

  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-budget-'))
  const server = await startDialectServer(alg, workDir, CONNECTIONS)
  const { baseUrl } = server.gatehouse
  const pid = server.gatehouse.child.pid
  const contender = (row: Dialect) => server.contenders.find((c) => c.dialect === row)!
  const figures = new Map<Dialect, Window[]>()
  try {
    for (const row of rows) {
      progress(`${alg} ${row}: warm-up`)
      await runPlan('wrk', await contender(row).plan(), CONNECTIONS, 2, workDir)
    }
    for (let round = 1; round <= rounds; round++) {
      for (const row of rows) {
        progress(`${alg} ${row}: round ${round}/${rounds}`)
        const run = runPlan('wrk', await contender(row).plan(), CONNECTIONS, duration, workDir)
        // wrk's pid once it runs, found at the first reading.
        let wrk: number | undefined
        const { before, after, seconds, result } = await insideRun(run, duration, () => {
          wrk ??= driverPid()
          return read(baseUrl, pid, wrk)
        })
        if (result.errors > 0) throw new Error(`${row}: ${result.errors} errors in the run`)
        const rps = (after.requests - before.requests) / seconds
        figures.set(row, [...(figures.get(row) ?? []), { us: perRequest(before, after), rps }])
      }
    }
  } finally {
    await server.gatehouse.child.stop()
    rmSync(workDir, { recursive: true, force: true })
  }
  console.log(render(alg, rows, figures, rounds, duration))
}

function render(
  alg: string,
  rows: readonly Dialect[],
  figures: Map<Dialect, Window[]>,
  rounds: number,
  duration: number,
): string {
  // Columns: the threads that spend a twentieth of a µs or more per request, busiest first; then the
  // driver and idle. The sum counts every thread.
  const totals = new Map<string, number>()
  for (const windows of figures.values())
    for (const { us } of windows)
      for (const [name, value] of us)
        if (name !== 'driver' && name !== 'idle') totals.set(name, (totals.get(name) ?? 0) + value)
  const runs = rounds * rows.length
  const threads = [...totals].filter(([, us]) => us / runs >= 0.05).sort((a, b) => b[1] - a[1])
  const columns = [...threads.map(([name]) => name), 'driver', 'idle']
  const sum = (w: Window) => [...w.us.values()].reduce((total, us) => total + us, 0)
  const middle = (windows: Window[], pick: (w: Window) => number) => median(windows.map(pick)) ?? 0
  const shares = rows.map((row): RowShare => {
    const windows = figures.get(row) ?? []
    return {
      sum: middle(windows, sum),
      idle: middle(windows, (w) => w.us.get('idle') ?? 0),
      rps: middle(windows, (w) => w.rps),
    }
  })
  const ratios = againstFirst(shares)
  const body = rows.map((row, i) => {
    const windows = figures.get(row) ?? []
    const us = (name: string) => middle(windows, (w) => w.us.get(name) ?? 0)
    return [
      row,
      ...columns.map((name) => fmt(us(name), 1, 1)),
      fmt(shares[i]!.sum, 1, 1),
      fmt(shares[i]!.rps, 0),
      `${fmt(ratios[i]!.measured, 2, 2)}×`,
      `${fmt(ratios[i]!.workOnly, 2, 2)}×`,
    ]
  })
  return [
    `Where a request's time goes, ${alg}: µs per request inside wrk's runs, ${rounds} rounds of ${duration} s (medians)`,
    `node ${process.versions.node}, ${availableParallelism()} × ${cpus()[0]?.model.trim()}, load average ${fmt(loadavg()[0]!, 2)} at end`,
    '',
    ...alignColumns(['row', ...columns, 'sum', 'req/s', `× ${rows[0]}`, 'if never idle'], body, [0]),
    '',
    "Columns: the server's threads by name (libuv-worker: its pool; V8Worker: the garbage collector's and the",
    "compiler's helpers), the load driver (wrk), and the time the CPUs sat idle; sum = all of them, the",
    "request's share of the machine (the CPUs ÷ req/s). Idle that grows from one row to the next is time the",
    `threads spent waiting on each other, not working. × ${rows[0]}: req/s against the first row's; if never`,
    "idle: the first row's sum less its idle ÷ this row's, the ratio the row's work alone allows.",
  ].join('\n')
}

// Run as a script; imported (by its test), it only lends its arithmetic.
if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
