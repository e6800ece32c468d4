// `npm run bench`: Gatehouse against its peers and a floor, same request, same load, one table.
// Only one server is under load at a time, so none competes with another for the two cores.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type DriverName, detectDriver, type LoadResult, runLoad } from './load.ts'
import { ALGS, type Alg, parseAlg } from './servers/jwt.ts'
import type { Started } from './spawn.ts'
import { type Row, renderTable } from './table.ts'
import { SERVER_NAMES, type ServerName, startServer } from './targets.ts'
import { verifySample } from './verify.ts'

const USAGE = `usage: npm run bench -- [--quick] [--alg RS256,ES256,EdDSA] [--only gatehouse,oidc-provider,oauth2-server,floor]
                          [--driver wrk|autocannon] [--connections 50] [--runs N] [--duration SEC] [--warmup SEC] [--keep-logs]`

// The issue bounds the whole run at five minutes; units that would cross it are skipped, not squeezed.
const TIME_BUDGET_SEC = 290
const START_OVERHEAD_SEC = 3

interface Settings {
  algs: Alg[]
  servers: ServerName[]
  driver: DriverName
  connections: number
  runs: number
  durationSec: number
  warmupSec: number
  sample: number
  keepLogs: boolean
}

function listOption<T extends string>(
  value: string | undefined,
  all: readonly T[],
  parse: (s: string) => T,
): T[] {
  if (!value) return [...all]
  const picked = value.split(',').map((s) => parse(s.trim()))
  // Keep the canonical order so tables from different invocations line up.
  return all.filter((x) => picked.includes(x))
}

function parseServer(s: string): ServerName {
  const found = SERVER_NAMES.find((n) => n === s)
  if (!found)
    throw new Error(`unknown server ${JSON.stringify(s)}; expected one of ${SERVER_NAMES.join(', ')}`)
  return found
}

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`)
  return n
}

function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      alg: { type: 'string' },
      only: { type: 'string' },
      driver: { type: 'string' },
      connections: { type: 'string' },
      runs: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'keep-logs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const driver = values.driver ?? detectDriver()
  if (driver !== 'wrk' && driver !== 'autocannon') throw new Error('--driver must be wrk or autocannon')
  // 3 runs x 5 s after a 3 s warm-up: 12 server/alg pairs must fit in five minutes on two cores.
  const quick = values.quick
  return {
    algs: listOption(values.alg, ALGS, parseAlg),
    servers: listOption(values.only, SERVER_NAMES, parseServer),
    driver,
    connections: Math.round(positive(values.connections, 50, 'connections')),
    runs: Math.round(positive(values.runs, quick ? 1 : 3, 'runs')),
    durationSec: positive(values.duration, quick ? 4 : 5, 'duration'),
    warmupSec: positive(values.warmup, quick ? 1 : 3, 'warmup'),
    sample: quick ? 10 : 20,
    keepLogs: values['keep-logs'],
  }
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`)
}

function median(results: LoadResult[]): LoadResult | undefined {
  const sorted = [...results].sort((a, b) => a.rps - b.rps)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

interface Slot {
  row: Row
  started?: Started
  checked: number
  valid: number
  failures: string[]
}

function fail(slot: Slot, tag: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err)
  slot.row.status = 'failed'
  slot.row.note = message.split('\n')[0]
  progress(`${tag} FAILED: ${message}`)
}

async function verifyInto(slot: Slot, alg: Alg, count: number): Promise<void> {
  if (!slot.started) return
  const result = await verifySample(slot.started.request, slot.started.jwksUrl, alg, count)
  slot.checked += result.checked
  slot.valid += result.valid
  slot.failures.push(...result.failures)
}

// All servers for one algorithm are up together (idle ones cost nothing) and their runs are interleaved
// round-robin: on a shared two-core machine, noise then lands on every server instead of on one server's
// block of consecutive runs.
async function benchAlg(alg: Alg, s: Settings, workDir: string, algTag: string): Promise<Row[]> {
  const slots: Slot[] = s.servers.map((server) => ({
    row: { alg, server, status: 'ok', runs: [], errors: 0, tokensChecked: 0, tokensValid: 0 },
    checked: 0,
    valid: 0,
    failures: [],
  }))
  const live = () => slots.filter((slot) => slot.row.status === 'ok')
  const tagOf = (slot: Slot) => `${algTag} ${alg} ${slot.row.server}:`
  try {
    for (const slot of slots) {
      try {
        progress(`${tagOf(slot)} starting`)
        slot.started = await startServer(slot.row.server, alg, { workDir })
        await verifyInto(slot, alg, s.sample / 2)
        if (slot.valid === 0) throw new Error(`no valid token before load: ${slot.failures[0] ?? 'unknown'}`)
      } catch (err) {
        fail(slot, tagOf(slot), err)
      }
    }
    for (const slot of live()) {
      try {
        progress(`${tagOf(slot)} warm-up ${s.warmupSec} s`)
        await runLoad(s.driver, slot.started!.request, s.connections, s.warmupSec, workDir)
      } catch (err) {
        fail(slot, tagOf(slot), err)
      }
    }
    for (let i = 1; i <= s.runs; i++) {
      for (const slot of live()) {
        try {
          progress(`${tagOf(slot)} run ${i}/${s.runs} (${s.durationSec} s)`)
          const result = await runLoad(s.driver, slot.started!.request, s.connections, s.durationSec, workDir)
          slot.row.runs.push(result)
          slot.row.errors += result.errors
          progress(
            `${tagOf(slot)} run ${i}/${s.runs}: ${Math.round(result.rps)} req/s, ` +
              `p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.errors} errors`,
          )
        } catch (err) {
          fail(slot, tagOf(slot), err)
        }
      }
    }
    for (const slot of live()) {
      await verifyInto(slot, alg, s.sample / 2)
      slot.row.tokensChecked = slot.checked
      slot.row.tokensValid = slot.valid
      if (slot.failures.length) {
        slot.row.note = `${slot.failures.length} sampled token(s) invalid, first: ${slot.failures[0]}`
      }
      slot.row.median = median(slot.row.runs)
    }
  } finally {
    await Promise.all(slots.map((slot) => slot.started?.child.stop()))
  }
  return slots.map((slot) => slot.row)
}

async function main(): Promise<number> {
  const [major] = process.versions.node.split('.').map(Number)
  if ((major ?? 0) < 24) {
    progress(`Node ${process.versions.node}: the bench needs Node 24 (run it through \`npm run bench\`).`)
    return 2
  }
  let settings: Settings
  try {
    settings = parseSettings(process.argv.slice(2))
  } catch (err) {
    progress(`${(err as Error).message}\n${USAGE}`)
    return 2
  }
  const s = settings
  const unitSec = s.warmupSec + s.runs * s.durationSec + START_OVERHEAD_SEC
  const units = s.algs.length * s.servers.length
  progress(
    `bench: ${s.servers.join(', ')} × ${s.algs.join(', ')}; ${s.driver}, ${s.connections} connections, ` +
      `warm-up ${s.warmupSec} s, ${s.runs} × ${s.durationSec} s; about ${units * unitSec} s`,
  )

  // Anything else using the two cores shows up as spread between runs; say so rather than let it pass as signal.
  const loadAtStart = loadavg()[0] ?? 0
  if (loadAtStart > 0.5) {
    progress(`bench: load average is ${loadAtStart.toFixed(2)} before starting; expect noisier numbers`)
  }

  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
  const startedAt = Date.now()
  const rows: Row[] = []
  for (const [i, alg] of s.algs.entries()) {
    const algTag = `[${i + 1}/${s.algs.length}]`
    const elapsedSec = (Date.now() - startedAt) / 1000
    if (elapsedSec + s.servers.length * unitSec > TIME_BUDGET_SEC) {
      progress(`${algTag} ${alg}: skipped, the ${TIME_BUDGET_SEC} s time budget would be exceeded`)
      for (const server of s.servers) {
        rows.push({
          alg,
          server,
          status: 'skipped',
          note: 'skipped: time budget',
          runs: [],
          errors: 0,
          tokensChecked: 0,
          tokensValid: 0,
        })
      }
      continue
    }
    rows.push(...(await benchAlg(alg, s, workDir, algTag)))
  }
  const totalSec = (Date.now() - startedAt) / 1000

  const cpuModel = cpus()[0]?.model ?? 'unknown CPU'
  const heading =
    `Token endpoint, client_credentials + Basic auth, JWT access tokens — ${s.driver}, ${s.connections} connections, ` +
    `${s.runs} × ${s.durationSec} s after ${s.warmupSec} s warm-up (median run)\n` +
    `node ${process.versions.node}, ${availableParallelism()} × ${cpuModel}, 127.0.0.1, ` +
    `load average ${loadAtStart.toFixed(2)} at start, total ${Math.round(totalSec)} s`
  console.log(renderTable(rows, heading))

  const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
  mkdirSync(resultsDir, { recursive: true })
  const resultsFile = join(resultsDir, 'latest.json')
  writeFileSync(
    resultsFile,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.versions.node,
        cpus: availableParallelism(),
        cpuModel,
        loadAtStart,
        settings: s,
        totalSec,
        rows,
      },
      null,
      2,
    )}\n`,
  )
  progress(`results written to ${resultsFile}`)

  const bad = rows.filter((r) => r.status === 'failed' || r.tokensValid < r.tokensChecked)
  if (bad.length || s.keepLogs) {
    progress(`server logs and data kept in ${workDir}`)
  } else {
    rmSync(workDir, { recursive: true, force: true })
  }
  return bad.length ? 1 : 0
}

process.exitCode = await main()
