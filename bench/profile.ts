// Where the event loop's time goes, dialect by dialect: each row runs on a Gatehouse of its own started with
// `--cpu-prof`, under wrk, and the table gives each function's self time per request on the main thread. It
// is read from the profile inside the measured run, as bench/budget.ts reads its figures (from 1 s after the
// start to 0.5 s before the end, over the requests the server's /metrics counted there). The columns after
// the rows' own say what each row adds to the first, function by function. Sampling costs the server some
// speed, so read the figures against each other, not as absolute costs.
//
// `--clients N` compares the two servers of `npm run bench -- --clients N` instead: ten clients, and N seeded
// clients driven over `--spread` ids.
//
//   npx node bench/profile.ts [--alg EdDSA] [--rows standard,signature] [--duration 8] [--top 25] [--keep DIR]
//   npx node bench/profile.ts --alg ES256 --clients 20000 [--spread 10000]
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type Dialect, startDialectServer } from './dialects.ts'
import { type CannonPlan, detectDriver, runCannon, runPlan } from './load.ts'
import { positive } from './options.ts'
import { progress } from './rounds.ts'
import { seedScale, startScaleServer } from './scale.ts'
import type { Alg } from './servers/jwt.ts'
import { alignColumns, fmt } from './table.ts'
import { insideRun, requestsCounted, rowOptions } from './window.ts'

const USAGE =
  'usage: npx node bench/profile.ts [--alg EdDSA] [--rows standard,signature | --clients 20000 [--spread 10000]]\n' +
  '                                 [--duration 8] [--top 25] [--keep DIR]'
const CONNECTIONS = 50
const WARMUP_SEC = 2
const SAMPLING_US = 200

/** The parts of a V8 CPU profile (the `.cpuprofile` that `--cpu-prof` writes) read here. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

/**
 * Self time in µs by function (`name file:line`, the file's last two path parts) over the samples taken
 * between `fromUs` and `toUs` (V8's clock, the one `process.hrtime` reads). A sample stands for the time
 * since the sample before it.
 */
export function selfTimes(profile: CpuProfile, fromUs: number, toUs: number): Map<string, number> {
  const names = new Map<number, string>()
  for (const { id, callFrame } of profile.nodes) {
    const file = callFrame.url.split('/').slice(-2).join('/')
    names.set(
      id,
      `${callFrame.functionName || '(anonymous)'}${file ? ` ${file}:${callFrame.lineNumber + 1}` : ''}`,
    )
  }
  const self = new Map<string, number>()
  let time = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    const since = profile.timeDeltas[i] ?? 0
    time += since
    if (i === 0 || time < fromUs || time > toUs) continue
    const name = names.get(profile.samples[i]!) ?? '(unknown)'
    self.set(name, (self.get(name) ?? 0) + since)
  }
  return self
}

/** The main thread's profile among those one process wrote to `dir` (thread 0 in the file name). */
function mainThreadProfile(dir: string, pid: number): CpuProfile {
  const file = readdirSync(dir).find((name) => name.includes(`.${pid}.0.`) && name.endsWith('.cpuprofile'))
  if (!file) throw new Error(`no main-thread CPU profile of process ${pid} in ${dir}`)
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n)

interface RowProfile {
  row: string
  perRequest: Map<string, number>
  rps: number
}

/** A server started under the profiler, with what drives it. */
interface Profiled {
  baseUrl: string
  pid: number
  // A fresh plan per run, as the bench's rounds take them: signed bodies and refresh chains are single-use.
  plan: () => Promise<CannonPlan>
  // Requests to send before the warm-up (one per client id, so that lookups are warm).
  prime?: number
  stop: () => Promise<void>
}

async function profileRow(
  label: string,
  duration: number,
  keep: string | undefined,
  start: (workDir: string, nodeFlags: string[]) => Promise<Profiled>,
): Promise<RowProfile> {
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-profile-'))
  const dir = join(workDir, 'profiles')
  try {
    const server = await start(workDir, [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      `--cpu-prof-interval=${SAMPLING_US}`,
    ])
    let measured: { requests: number; fromUs: number; toUs: number; rps: number }
    try {
      if (server.prime) await runCannon(await server.plan(), CONNECTIONS, 0, server.prime)
      progress(`${label}: warm-up`)
      await runPlan('wrk', await server.plan(), CONNECTIONS, WARMUP_SEC, workDir)
      progress(`${label}: ${duration} s under the profiler`)
      const run = runPlan('wrk', await server.plan(), CONNECTIONS, duration, workDir)
      const { before, after, result } = await insideRun(run, duration, async () => ({
        requests: await requestsCounted(server.baseUrl),
        us: monotonicUs(),
      }))
      if (result.errors > 0) throw new Error(`${label}: ${result.errors} errors in the run`)
      measured = {
        requests: after.requests - before.requests,
        fromUs: before.us,
        toUs: after.us,
        rps: result.rps,
      }
    } finally {
      // The profile is written as the process exits.
      await server.stop()
    }
    if (keep) cpSync(dir, join(keep, label.replace(/[^\w-]+/g, '-')), { recursive: true })
    const self = selfTimes(mainThreadProfile(dir, server.pid), measured.fromUs, measured.toUs)
    const perRequest = new Map([...self].map(([name, us]) => [name, us / measured.requests]))
    return { row: label, perRequest, rps: measured.rps }
  } finally {
    rmSync(workDir, { recursive: true, force: true })
  }
}

/** A dialect's row: a Gatehouse of its own with the dialect clients registered, driven at that dialect. */
function dialectRow(alg: Alg, row: Dialect) {
  return async (workDir: string, nodeFlags: string[]): Promise<Profiled> => {
    const server = await startDialectServer(alg, workDir, CONNECTIONS, { nodeFlags })
    const contender = server.contenders.find((c) => c.dialect === row)!
    return {
      baseUrl: server.gatehouse.baseUrl,
      pid: server.gatehouse.child.pid,
      plan: contender.plan,
      stop: () => server.gatehouse.child.stop(),
    }
  }
}

/**
 * The two rows of `npm run bench -- --clients`: ten clients, and `count` seeded clients driven over `spread`
 * ids, each seeded into a data dir of the row's own, the larger primed with one request per id.
 */
async function clientRows(alg: Alg, count: number, spread: number, duration: number, keep?: string) {
  const seedDir = mkdtempSync(join(tmpdir(), 'gatehouse-profile-seeded-'))
  try {
    const seeding = await seedScale({ alg, count, spread, workDir: seedDir })
    const rows: RowProfile[] = []
    for (const entry of seeding.entries) {
      rows.push(
        await profileRow(entry.row.setup, duration, keep, async (workDir, nodeFlags) => {
          const { server, contender } = await startScaleServer(entry, { workDir, nodeFlags }, 'profiled')
          return {
            baseUrl: server.baseUrl,
            pid: server.child.pid,
            plan: contender.plan,
            ...(contender.primeRequests ? { prime: contender.primeRequests } : {}),
            stop: () => server.child.stop(),
          }
        }),
      )
    }
    return rows
  } finally {
    rmSync(seedDir, { recursive: true, force: true })
  }
}

export function renderProfiles(alg: string, rows: RowProfile[], top: number, duration: number): string {
  const [first, ...others] = rows
  if (!first) throw new Error('no rows to show')
  const of = (p: RowProfile, name: string) => p.perRequest.get(name) ?? 0
  const busy = (p: RowProfile) =>
    [...p.perRequest].reduce((sum, [name, us]) => (name === '(idle)' ? sum : sum + us), 0)
  // The functions that cost most in any row, or that differ most from the first row.
  const weight = (name: string) =>
    Math.max(...rows.map((p) => Math.max(of(p, name), Math.abs(of(p, name) - of(first, name)))))
  const names = new Set(rows.flatMap(({ perRequest }) => [...perRequest.keys()]))
  names.delete('(idle)')
  const shown = [...names].sort((a, b) => weight(b) - weight(a)).slice(0, top)
  const cells = (label: string, pick: (p: RowProfile) => number) => [
    label,
    ...rows.map((p) => fmt(pick(p), 2, 2)),
    ...others.map((p) => signed(pick(p) - pick(first))),
  ]
  const header = [
    'event loop, µs per request',
    ...rows.map((p) => p.row),
    ...others.map((p) => `${p.row} − ${first.row}`),
  ]
  const body = [
    cells('busy (every function)', busy),
    cells('idle', (p) => of(p, '(idle)')),
    ...shown.map((name) => cells(name, (p) => of(p, name))),
  ]
  return [
    `The event loop's self time by function, ${alg}: µs per request inside ${duration} s of wrk per row, each row on a Gatehouse of its own`,
    `node ${process.versions.node}, ${availableParallelism()} × ${cpus()[0]?.model.trim()}; under the profiler (${SAMPLING_US} µs sampling): ${rows
      .map((p) => `${p.row} ${fmt(p.rps, 0)} req/s`)
      .join(', ')}`,
    '',
    ...alignColumns(header, body, [0]),
    '',
    "Self time: a function's own samples, not its callees'. Native calls made from JavaScript (SQLite, crypto,",
    "a socket write) count to the function that made them unless V8 names them itself; '(program)' is V8's own",
    "work and '(garbage collector)' its collections on this thread. Wall time on the thread: while it waited for",
    `a core it counts to the function it was in, most of all to the socket write. Shown: the top ${top} by their`,
    'largest figure or difference from the first row.',
  ].join('\n')
}

function signed(us: number): string {
  return `${us >= 0 ? '+' : '−'}${fmt(Math.abs(us), 2, 2)}`
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      alg: { type: 'string', default: 'EdDSA' },
      rows: { type: 'string' },
      clients: { type: 'string' },
      spread: { type: 'string' },
      duration: { type: 'string', default: '8' },
      top: { type: 'string', default: '25' },
      keep: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return
  }
  if (values.clients !== undefined && values.rows !== undefined)
    throw new Error('--rows and --clients are separate comparisons: give one of them')
  const { alg, rows, duration } = rowOptions({ ...values, rows: values.rows ?? 'standard,signature' }, 8)
  const top = Math.round(positive(values.top, 25, 'top'))
  if (detectDriver() !== 'wrk') throw new Error('bench/profile.ts drives with wrk: apt-get install -y wrk')
  const profiles: RowProfile[] = []
  if (values.clients !== undefined) {
    const count = Math.round(positive(values.clients, 20_000, 'clients'))
    const spread = Math.round(positive(values.spread, 10_000, 'spread'))
    profiles.push(...(await clientRows(alg, count, spread, duration, values.keep)))
  } else {
    for (const row of rows) profiles.push(await profileRow(row, duration, values.keep, dialectRow(alg, row)))
  }
  console.log(renderProfiles(alg, profiles, top, duration))
  if (values.keep) console.log(`\nProfiles (every thread's) kept in ${values.keep}, one folder per row.`)
}

// Run as a script; imported (by its test), it only lends its arithmetic.
if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
