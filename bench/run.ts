// `npm run bench`: Gatehouse against its peers and a floor, same request, same load, one table.
// Only one server is under load at a time, so none competes with another for the two cores.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { withCpu } from './cpu.ts'
import {
  DIALECTS,
  type Dialect,
  type DialectRow,
  type DialectServer,
  renderDialectTable,
  startDialectServer,
} from './dialects.ts'
import { instructionsMain } from './instructions.ts'
import { type DriverName, detectDriver, runLoad } from './load.ts'
import { listOption, parseServer, positive } from './options.ts'
import { emptyMeasured, measureRoundRobin, medianOfRuns, progress } from './rounds.ts'
import {
  BASELINE_CLIENTS,
  pairSummary,
  readAfterMemory,
  readIdleMemory,
  renderScaleTable,
  type ScaleRow,
  type ScaleSeeding,
  type ScaleSetup,
  seedScale,
  startScaleServers,
  stopScaleServers,
} from './scale.ts'
import { ALGS, type Alg, parseAlg } from './servers/jwt.ts'
import type { Started } from './spawn.ts'
import { type Row, renderTable } from './table.ts'
import { SERVER_NAMES, type ServerName, startServer } from './targets.ts'
import { verifierMain } from './verifier.ts'
import { verifySample } from './verify.ts'

const USAGE = `usage: npm run bench -- [--quick] [--alg RS256,ES256,EdDSA] [--only gatehouse,oidc-provider,oauth2-server,floor]
                          [--driver wrk|autocannon] [--connections 50] [--runs N] [--duration SEC] [--warmup SEC] [--keep-logs]
       npm run bench -- --dialects [--quick] [--alg …] [--connections 50] [--runs N] [--duration SEC] [--warmup SEC]
       npm run bench -- --clients 1000000 [--spread 10000] [--pairs 3] [--seeded-data DIR] [--quick] [--alg ES256] [--driver …] …
       npm run bench -- --verifier [--quick] [--alg …] [--rounds N] [--slice MS] [--concurrency N]
       npm run bench -- --instructions [--quick] [--alg …] [--only …] [--requests N] [--warmup N] [--concurrency N]`

// Printed under every table: the verifier target is a mode of its own.
const VERIFIER_LINE =
  'verifier target (0.8 × bare jose.jwtVerify): a separate mode, `npm run bench -- --verifier` (about 45 s).'

// The issue bounds the whole run at five minutes; units that would cross it are skipped, not squeezed.
const TIME_BUDGET_SEC = 290
// The dialect mode is a run of its own, bounded the same way at six minutes: its runs between runs of the
// standard endpoint take nine runs a round for five endpoints.
const DIALECT_TIME_BUDGET_SEC = 350
const START_OVERHEAD_SEC = 3
// Registering the five dialect clients through the CLI (a Node start each) and starting the server.
const DIALECT_START_SEC = 10
// Around each dialect run: a fresh plan, starting wrk and reading /proc before and after.
const DIALECT_RUN_OVERHEAD_SEC = 0.2

type Mode = 'peers' | 'dialects' | 'clients'

interface Settings {
  mode: Mode
  // --clients: how many clients to register, and over how many distinct ids the load rotates.
  clients: number
  spread: number
  // --clients: how many fresh pairs of servers run the rounds, one pair after the other.
  pairs: number
  seededData?: string
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
      dialects: { type: 'boolean', default: false },
      clients: { type: 'string' },
      spread: { type: 'string' },
      pairs: { type: 'string' },
      'seeded-data': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  if (values.dialects && values.clients !== undefined)
    throw new Error('--dialects and --clients are separate modes')
  const mode: Mode = values.dialects ? 'dialects' : values.clients !== undefined ? 'clients' : 'peers'
  if (mode !== 'peers' && values.only !== undefined) throw new Error('--only belongs to the peer table')
  if (mode !== 'clients' && values.pairs !== undefined) throw new Error('--pairs belongs to --clients')
  const driver = values.driver ?? detectDriver()
  if (driver !== 'wrk' && driver !== 'autocannon') throw new Error('--driver must be wrk or autocannon')
  const quick = values.quick
  // Peers: 5 runs x 3 s after a 3 s warm-up: 12 server/alg pairs must fit in five minutes on two cores.
  // Dialects: 15 endpoint/alg pairs, so 4 runs x 3 s after 2 s. Clients: 2 servers, one alg by default,
  // the runs repeated on each of --pairs fresh pairs of server processes.
  // More, shorter rounds rather than fewer long ones: the paired ratios' median is what the verdicts read,
  // and on a shared machine one round in three can be off by a tenth.
  const defaults = {
    peers: { runs: quick ? 1 : 5, duration: quick ? 4 : 3, warmup: quick ? 1 : 3 },
    dialects: { runs: quick ? 1 : 4, duration: 2, warmup: quick ? 1 : 2 },
    clients: { runs: quick ? 1 : 5, duration: quick ? 4 : 3, warmup: quick ? 2 : 3 },
  }[mode]
  return {
    mode,
    clients: Math.round(positive(values.clients, 1_000_000, 'clients')),
    spread: Math.round(positive(values.spread, 10_000, 'spread')),
    pairs: Math.round(positive(values.pairs, quick ? 1 : 3, 'pairs')),
    ...(values['seeded-data'] === undefined ? {} : { seededData: values['seeded-data'] }),
    algs: mode === 'clients' && values.alg === undefined ? ['ES256'] : listOption(values.alg, ALGS, parseAlg),
    servers: listOption(values.only, SERVER_NAMES, parseServer),
    driver,
    connections: Math.round(positive(values.connections, 50, 'connections')),
    runs: Math.round(positive(values.runs, defaults.runs, 'runs')),
    durationSec: positive(values.duration, defaults.duration, 'duration'),
    warmupSec: positive(values.warmup, defaults.warmup, 'warmup'),
    sample: quick ? 10 : 20,
    keepLogs: values['keep-logs'],
  }
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
      // Each round starts one server further on, so that none always runs first (or last) in its round.
      const order = live()
      const shift = (i - 1) % Math.max(1, order.length)
      for (const slot of [...order.slice(shift), ...order.slice(0, shift)]) {
        try {
          progress(`${tagOf(slot)} run ${i}/${s.runs} (${s.durationSec} s)`)
          const result = await withCpu(slot.started!.child.pid, () =>
            runLoad(s.driver, slot.started!.request, s.connections, s.durationSec, workDir),
          )
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
      slot.row.median = medianOfRuns(slot.row.runs)
    }
  } finally {
    await Promise.all(slots.map((slot) => slot.started?.child.stop()))
  }
  return slots.map((slot) => slot.row)
}

function writeResults(file: string, payload: Record<string, unknown>): void {
  const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
  mkdirSync(resultsDir, { recursive: true })
  const resultsFile = join(resultsDir, file)
  writeFileSync(
    resultsFile,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.versions.node,
        cpus: availableParallelism(),
        cpuModel: cpus()[0]?.model ?? 'unknown CPU',
        ...payload,
      },
      null,
      2,
    )}\n`,
  )
  progress(`results written to ${resultsFile}`)
}

function machineLine(loadAtStart: number, totalSec: number): string {
  const cpuModel = cpus()[0]?.model ?? 'unknown CPU'
  const loadAtEnd = loadavg()[0] ?? 0
  return (
    `node ${process.versions.node}, ${availableParallelism()} × ${cpuModel}, 127.0.0.1, ` +
    `load average ${loadAtStart.toFixed(2)} at start, ${loadAtEnd.toFixed(2)} at end, total ${Math.round(totalSec)} s`
  )
}

function cleanUp(workDir: string, failed: boolean, keepLogs: boolean): void {
  if (failed || keepLogs) {
    progress(`server logs and data kept in ${workDir}`)
  } else {
    rmSync(workDir, { recursive: true, force: true })
  }
}

async function runPeers(s: Settings, loadAtStart: number, workDir: string): Promise<number> {
  const unitSec = s.warmupSec + s.runs * s.durationSec + START_OVERHEAD_SEC
  const units = s.algs.length * s.servers.length
  progress(
    `bench: ${s.servers.join(', ')} × ${s.algs.join(', ')}; ${s.driver}, ${s.connections} connections, ` +
      `warm-up ${s.warmupSec} s, ${s.runs} × ${s.durationSec} s; about ${units * unitSec} s`,
  )
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

  const heading =
    `Token endpoint, client_credentials + Basic auth, JWT access tokens — ${s.driver}, ${s.connections} connections, ` +
    `${s.runs} × ${s.durationSec} s after ${s.warmupSec} s warm-up (medians over the runs)\n${machineLine(loadAtStart, totalSec)}`
  console.log(renderTable(rows, heading))
  console.log(`\n${VERIFIER_LINE}`)
  console.log(
    'dialects and 1,000,000 clients: separate modes, `npm run bench -- --dialects` and `-- --clients 1000000`.',
  )
  writeResults('latest.json', { loadAtStart, settings: s, totalSec, rows })

  const bad = rows.filter((r) => r.status === 'failed' || r.tokensValid < r.tokensChecked)
  cleanUp(workDir, bad.length > 0, s.keepLogs)
  return bad.length ? 1 : 0
}

// Per algorithm: one Gatehouse with a client for every dialect, the five endpoints measured round-robin.
async function runDialects(s: Settings, loadAtStart: number, workDir: string): Promise<number> {
  // Every other endpoint's run sits between two of the standard endpoint's (see measureRoundRobin).
  const runsPerRound = 2 * DIALECTS.length - 1
  const perAlgSec =
    DIALECTS.length * s.warmupSec +
    s.runs * runsPerRound * (s.durationSec + DIALECT_RUN_OVERHEAD_SEC) +
    DIALECT_START_SEC
  progress(
    `bench --dialects: ${DIALECTS.join(', ')} × ${s.algs.join(', ')}; ${s.driver}, ${s.connections} connections, ` +
      `warm-up ${s.warmupSec} s, ${s.runs} rounds of ${runsPerRound} × ${s.durationSec} s; about ${Math.round(s.algs.length * perAlgSec)} s`,
  )
  const startedAt = Date.now()
  const rows: DialectRow[] = []
  const chainNotes: string[] = []
  for (const [i, alg] of s.algs.entries()) {
    const tag = `[${i + 1}/${s.algs.length}] ${alg}`
    const fresh = (dialect: Dialect): DialectRow => ({ ...emptyMeasured(), alg, dialect })
    if ((Date.now() - startedAt) / 1000 + perAlgSec > DIALECT_TIME_BUDGET_SEC) {
      progress(`${tag}: skipped, the ${DIALECT_TIME_BUDGET_SEC} s time budget would be exceeded`)
      rows.push(
        ...DIALECTS.map((d) => ({ ...fresh(d), status: 'skipped' as const, note: 'skipped: time budget' })),
      )
      continue
    }
    let server: DialectServer | undefined
    try {
      progress(`${tag}: registering clients and starting Gatehouse`)
      server = await startDialectServer(alg, workDir, s.connections)
      const standard = server.contenders.find((c) => c.dialect === 'standard')
      await measureRoundRobin(server.contenders, alg, { ...s, workDir }, tag, standard)
      rows.push(...server.contenders.map((c) => ({ ...c.result, alg, dialect: c.dialect })))
      const breaks = server.chainNotes()
      if (breaks.length)
        chainNotes.push(`${alg} refresh: ${breaks.length} broken chain(s), first: ${breaks[0]}`)
    } catch (err) {
      const message = (err as Error).message
      progress(`${tag} FAILED: ${message}`)
      rows.push(
        ...DIALECTS.map((d) => ({ ...fresh(d), status: 'failed' as const, note: message.split('\n')[0] })),
      )
    } finally {
      await server?.gatehouse.child.stop()
    }
  }
  const totalSec = (Date.now() - startedAt) / 1000
  const heading =
    `Gatehouse token dialects vs its standard endpoint — one Gatehouse per alg (SQLite, logs at info), ${s.driver}, ` +
    `${s.connections} connections, ${s.runs} rounds of ${s.durationSec} s runs, each endpoint's run between two of the standard one's, after ${s.warmupSec} s warm-up each (medians over the runs)\n` +
    machineLine(loadAtStart, totalSec)
  console.log(renderDialectTable(rows, heading))
  if (chainNotes.length) console.log(chainNotes.join('\n'))
  console.log(`\n${VERIFIER_LINE}`)
  writeResults('dialects-latest.json', {
    mode: 'dialects',
    loadAtStart,
    settings: s,
    totalSec,
    rows,
    chainNotes,
  })
  const bad = rows.filter((r) => r.status === 'failed' || r.tokensValid < r.tokensChecked || r.errors > 0)
  cleanUp(workDir, bad.length > 0, s.keepLogs)
  return bad.length ? 1 : 0
}

// Gatehouse with --clients N registered against Gatehouse with ten, the load rotating over --spread ids.
async function runClients(s: Settings, loadAtStart: number, workDir: string): Promise<number> {
  progress(
    `bench --clients ${s.clients}: ${s.algs.join(', ')}; 10 vs ${s.clients} registered clients, load over ` +
      `${Math.min(s.spread, s.clients)} ids; ${s.driver}, ${s.connections} connections, ${s.pairs} pairs of servers, ` +
      `each: warm-up ${s.warmupSec} s, ${s.runs} × ${s.durationSec} s per server; plus seeding`,
  )
  const startedAt = Date.now()
  let seedingSec = 0
  const rows: ScaleRow[] = []
  for (const [i, alg] of s.algs.entries()) {
    const tag = `[${i + 1}/${s.algs.length}] ${alg}`
    let seeding: ScaleSeeding | undefined
    let setup: ScaleSetup | undefined
    try {
      const before = Date.now()
      seeding = await seedScale({
        alg,
        count: s.clients,
        spread: s.spread,
        workDir,
        ...(s.seededData === undefined ? {} : { seededData: s.seededData }),
      })
      seedingSec += (Date.now() - before) / 1000
      for (let pair = 1; pair <= s.pairs; pair++) {
        setup = await startScaleServers(seeding, workDir, pair)
        readIdleMemory(setup)
        const from = seeding.rows[0]?.runs.length ?? 0
        await measureRoundRobin(setup.contenders, alg, { ...s, workDir }, `${tag} pair ${pair}/${s.pairs}`)
        readAfterMemory(setup)
        progress(`${tag} pair ${pair}/${s.pairs}: ${pairSummary(seeding.rows, from)}`)
        await stopScaleServers(setup)
        setup = undefined
      }
      rows.push(...seeding.rows)
    } catch (err) {
      const message = (err as Error).message
      progress(`${tag} FAILED: ${message}`)
      rows.push(...(seeding?.rows ?? []))
      for (const row of seeding?.rows ?? []) {
        row.status = 'failed'
        row.note = message.split('\n')[0]
      }
    } finally {
      if (setup) await stopScaleServers(setup)
    }
  }
  const totalSec = (Date.now() - startedAt) / 1000
  const heading =
    `Gatehouse with ${s.clients.toLocaleString('en-US')} registered clients vs ${BASELINE_CLIENTS} — SQLite, logs at info, ` +
    `client_credentials + Basic, ${s.driver}, ${s.connections} connections, ${s.pairs} pairs of servers × ${s.runs} × ` +
    `${s.durationSec} s after ${s.warmupSec} s warm-up each, round-robin (medians over the runs)\n${machineLine(loadAtStart, totalSec)} ` +
    `(of which ${Math.round(seedingSec)} s registering clients, ${Math.round(totalSec - seedingSec)} s starting servers and measuring)`
  console.log(renderScaleTable(rows, heading))
  console.log(`\n${VERIFIER_LINE}`)
  writeResults('clients-latest.json', {
    mode: 'clients',
    loadAtStart,
    settings: s,
    totalSec,
    seedingSec,
    rows,
  })
  const bad = rows.filter((r) => r.status === 'failed' || r.tokensValid < r.tokensChecked)
  cleanUp(workDir, bad.length > 0, s.keepLogs)
  return bad.length ? 1 : 0
}

async function main(): Promise<number> {
  const [major] = process.versions.node.split('.').map(Number)
  if ((major ?? 0) < 24) {
    progress(`Node ${process.versions.node}: the bench needs Node 24 (run it through \`npm run bench\`).`)
    return 2
  }
  // The verifier target runs in this process with its own settings (bench/verifier.ts).
  if (process.argv.includes('--verifier')) return verifierMain(process.argv.slice(2))
  // So does the instruction count, under valgrind (bench/instructions.ts).
  if (process.argv.includes('--instructions')) return instructionsMain(process.argv.slice(2))
  let settings: Settings
  try {
    settings = parseSettings(process.argv.slice(2))
  } catch (err) {
    progress(`${(err as Error).message}\n${USAGE}`)
    return 2
  }
  if (settings.driver === 'autocannon' && detectDriver() !== 'wrk') {
    progress(
      'bench: wrk is not installed, so the load comes from autocannon in this process, on the same cores as the ' +
        'servers; `apt-get install -y wrk` gives steadier figures',
    )
  }
  // Anything else using the two cores shows up as spread between runs; say so rather than let it pass as signal.
  const loadAtStart = loadavg()[0] ?? 0
  if (loadAtStart > 0.5) {
    progress(`bench: load average is ${loadAtStart.toFixed(2)} before starting; expect noisier numbers`)
  }
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
  if (settings.mode === 'dialects') return runDialects(settings, loadAtStart, workDir)
  if (settings.mode === 'clients') return runClients(settings, loadAtStart, workDir)
  return runPeers(settings, loadAtStart, workDir)
}

process.exitCode = await main()
