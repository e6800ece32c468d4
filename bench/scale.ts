// `npm run bench -- --clients 1000000`: Gatehouse with a million registered clients against Gatehouse with ten,
// same algorithm, same load, the requests spread over many different client ids. Target: at least 0.9 × the
// ten-client throughput, with memory bounded (the server's RSS is read from /proc after the runs).
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CLIENTS_IN_MEMORY as CACHE_CAPACITY } from '@gatehouse/core'
import {
  checkBuilt,
  type GatehouseFiles,
  gatehouseFiles,
  type RunningGatehouse,
  runCli,
  serveGatehouse,
} from './gatehouse.ts'
import { type CannonPlan, looksLikeTokenResponse, tokenRequest } from './load.ts'
import { type Contender, comparedTo, emptyMeasured, type Measured, progress } from './rounds.ts'
import {
  DEFAULT_SEED,
  SEEDED_SCOPE,
  type SeededCredentials,
  seededClient,
  seededKey,
  spreadIndices,
} from './seeded.ts'
import type { Alg } from './servers/jwt.ts'
import { type Memory, memoryOf, type StartContext } from './spawn.ts'
import {
  alignColumns,
  CPU_LEGEND,
  DASH,
  fmt,
  MEASURED_COLUMNS,
  measuredCells,
  ratioCell,
  verdictCell,
} from './table.ts'
import { oauthAccessToken, postJson } from './verify.ts'

export const SCALE_TARGET = 0.9
export const BASELINE_CLIENTS = 10

const SEED_SCRIPT = fileURLToPath(new URL('./seed-clients.ts', import.meta.url))

export interface SeedSummary {
  count: number
  inserted: number
  already_seeded: number
  seconds: number
  per_second: number
  database_bytes: number
}

export interface ScaleRow extends Measured {
  alg: Alg
  setup: string
  registered: number
  driven: number
  // The 10-client server, which the other row is held against. Not told by `driven`: `--spread 10` drives
  // the large server over ten ids too, to tell what the registered count costs from what the ids do.
  baseline: boolean
  idle?: Memory
  after?: Memory
  seed?: SeedSummary
}

export function seedClients(files: GatehouseFiles, count: number): Promise<SeedSummary> {
  return new Promise((resolvePromise, reject) => {
    // stderr is inherited: the seeding script's progress bar shows on the bench's terminal.
    const proc = spawn(
      process.execPath,
      [SEED_SCRIPT, ...files.common, '--count', String(count), '--seed', DEFAULT_SEED, '--json'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
    })
    proc.on('error', reject)
    proc.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench/seed-clients.ts exited with code ${code}`))
      try {
        resolvePromise(JSON.parse(out.trim().split('\n').at(-1) ?? '') as SeedSummary)
      } catch {
        reject(new Error(`bench/seed-clients.ts printed no JSON summary: ${out}`))
      }
    })
  })
}

// Requests rotate over the given clients, one Basic header per request, continuing across runs.
export function spreadPlan(baseUrl: string, clients: SeededCredentials[]): CannonPlan {
  const template = tokenRequest(baseUrl, 'x', 'x')
  return {
    url: template.url,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: template.body,
    rotate: {
      header: 'authorization',
      values: clients.map((c) => tokenRequest(baseUrl, c.clientId, c.clientSecret).headers.authorization!),
    },
    verifyBody: looksLikeTokenResponse,
  }
}

function fetchSpread(baseUrl: string, clients: SeededCredentials[]) {
  return async () => {
    const c = clients[Math.floor(Math.random() * clients.length)]!
    return oauthAccessToken(
      await postJson(`${baseUrl}/oauth/token`, tokenRequest(baseUrl, c.clientId, c.clientSecret)),
    )
  }
}

export async function initialiseDataDir(files: GatehouseFiles): Promise<void> {
  // Gatehouse creates the database, runs its migrations and makes the master key, as on a first real run.
  if (!existsSync(join(files.dataDir, 'gatehouse.db'))) {
    await runCli([
      'clients',
      'create',
      ...files.common,
      '--name',
      'bench-init',
      '--scope',
      SEEDED_SCOPE,
      '--json',
    ])
  }
}

export interface ScaleOptions {
  alg: Alg
  count: number
  spread: number
  workDir: string
  // A data dir to seed into and keep (resumed on the next invocation), instead of one in the work dir.
  seededData?: string
}

/** One seeded data dir: its client credentials, and the row its servers' runs add to. */
export interface ScaleEntry {
  files: GatehouseFiles
  label: string
  clients: SeededCredentials[]
  row: ScaleRow
}

/** The two data dirs, seeded, and the rows their servers' runs add to, pair after pair. */
export interface ScaleSeeding {
  rows: ScaleRow[]
  entries: ScaleEntry[]
}

export interface ScaleSetup {
  rows: ScaleRow[]
  contenders: Contender[]
  servers: RunningGatehouse[]
}

export async function seedScale(o: ScaleOptions): Promise<ScaleSeeding> {
  checkBuilt()
  const key = seededKey(DEFAULT_SEED)
  const smallLabel = `${o.alg}-${BASELINE_CLIENTS}-clients`
  const bigLabel = `${o.alg}-${o.count}-clients`
  const small = gatehouseFiles(o.workDir, smallLabel, o.alg)
  const big = gatehouseFiles(o.workDir, bigLabel, o.alg)
  if (o.seededData) {
    const dataDir = resolve(o.seededData)
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(big.configFile, JSON.stringify({ tokens: { algorithm: o.alg } }, null, 2))
    big.dataDir = dataDir
    big.common = ['--data', dataDir, '--config', big.configFile]
  }

  progress(`${o.alg}: registering ${BASELINE_CLIENTS} clients`)
  await initialiseDataDir(small)
  const smallSeed = await seedClients(small, BASELINE_CLIENTS)
  progress(`${o.alg}: registering ${o.count.toLocaleString('en-US')} clients in ${big.dataDir}`)
  await initialiseDataDir(big)
  const bigSeed = await seedClients(big, o.count)
  progress(
    `${o.alg}: seeding took ${bigSeed.seconds} s (${bigSeed.inserted.toLocaleString('en-US')} new, ` +
      `${bigSeed.per_second.toLocaleString('en-US')}/s; ${bigSeed.already_seeded.toLocaleString('en-US')} already there); ` +
      `database ${(bigSeed.database_bytes / 2 ** 20).toFixed(0)} MiB`,
  )

  const entry = (
    files: GatehouseFiles,
    label: string,
    seed: SeedSummary,
    indices: number[],
    baseline: boolean,
  ) => {
    const registered = seed.already_seeded + seed.inserted + 1
    const clients = indices.map((i) => seededClient(key, i))
    const row: ScaleRow = {
      ...emptyMeasured(),
      alg: o.alg,
      setup: `${registered.toLocaleString('en-US')} clients`,
      registered,
      driven: clients.length,
      baseline,
      seed,
    }
    return { files, label, clients, row }
  }
  const entries = [
    entry(small, smallLabel, smallSeed, spreadIndices(BASELINE_CLIENTS, BASELINE_CLIENTS), true),
    entry(big, bigLabel, bigSeed, spreadIndices(o.count, o.spread), false),
  ]
  return { rows: entries.map((e) => e.row), entries }
}

/**
 * A fresh pair of servers on the seeded data dirs, whose runs add to the seeding's rows. One pair of processes
 * is one sample: two identical servers' ratio in this mode once moved by a tenth from one pair to the next
 * (0.91–1.09) while the rounds of each pair stayed close, so the verdict reads the rounds of several pairs.
 */
export async function startScaleServers(
  seeding: ScaleSeeding,
  workDir: string,
  pair: number,
): Promise<ScaleSetup> {
  const servers: RunningGatehouse[] = []
  const contenders: Contender[] = []
  for (const entry of seeding.entries) {
    const started = await startScaleServer(entry, { workDir }, `pair-${pair}`)
    servers.push(started.server)
    contenders.push(started.contender)
  }
  return { rows: seeding.rows, contenders, servers }
}

/** A server on one seeded data dir, and the contender that drives it over the entry's clients. */
export async function startScaleServer(
  { files, label, clients, row }: ScaleEntry,
  ctx: StartContext,
  suffix: string,
): Promise<{ server: RunningGatehouse; contender: Contender }> {
  const server = await serveGatehouse(files, `${label}-${suffix}`, { readyTimeoutMs: 120_000, ...ctx })
  const plan = spreadPlan(server.baseUrl, clients)
  const contender: Contender = {
    label: row.setup,
    plan: async () => plan,
    fetchToken: fetchSpread(server.baseUrl, clients),
    jwksUrl: server.jwksUrl,
    result: row,
    pid: server.child.pid,
    // One request per driven id before the warm-up, so the runs measure the steady state rather than first
    // lookups; pointless beyond the cache's capacity, where every request is a lookup anyway.
    ...(clients.length > BASELINE_CLIENTS && clients.length <= CACHE_CAPACITY
      ? { primeRequests: clients.length }
      : {}),
  }
  return { server, contender }
}

/** What one pair of servers read: the large server's median ratio over the rounds from `from` on. */
export function pairSummary(rows: ScaleRow[], from: number): string {
  const base = rows.find((r) => r.baseline)
  if (!base) return 'no baseline'
  const since = (row: ScaleRow) => ({ ...row, runs: row.runs.slice(from) })
  return rows
    .filter((row) => row !== base)
    .map((row) => `${row.setup} ÷ ${base.setup} ${ratioCell(comparedTo(since(row), since(base)).ratios)}`)
    .join('; ')
}

export async function stopScaleServers(setup: ScaleSetup): Promise<void> {
  await Promise.all(setup.servers.map((server) => server.child.stop()))
}

// After the servers have settled: resident memory before any load, for comparison with after. Over several
// pairs of servers, each figure is the largest any pair read.
export function readIdleMemory(setup: ScaleSetup): void {
  setup.servers.forEach((s, i) => {
    const row = setup.rows[i]
    if (row) row.idle = larger(row.idle, memoryOf(s.child.pid))
  })
}

export function readAfterMemory(setup: ScaleSetup): void {
  setup.servers.forEach((s, i) => {
    const row = setup.rows[i]
    if (row) row.after = larger(row.after, memoryOf(s.child.pid))
  })
}

function larger(a: Memory | undefined, b: Memory | undefined): Memory | undefined {
  if (!a || !b) return a ?? b
  return { rssMiB: Math.max(a.rssMiB, b.rssMiB), peakMiB: Math.max(a.peakMiB, b.peakMiB) }
}

export function renderScaleTable(rows: ScaleRow[], heading: string): string {
  const header = [
    'alg',
    'registered',
    'ids driven',
    ...MEASURED_COLUMNS,
    'RSS idle MiB',
    'RSS after MiB',
    'peak MiB',
    '× 10 clients',
    'target 0.9',
  ]
  const mib = (m: Memory | undefined, key: keyof Memory) =>
    m && Number.isFinite(m[key]) ? fmt(m[key], 0) : DASH
  const body: string[][] = []
  const notes: string[] = []
  for (const row of rows) {
    // Against the 10-client server's run in the same round.
    const base = rows.find((r) => r.alg === row.alg && r.baseline)
    const { ratios, hadErrors } = comparedTo(row, base)
    const { baseline } = row
    body.push([
      row.alg,
      fmt(row.registered, 0),
      fmt(row.driven, 0),
      ...measuredCells(row),
      mib(row.idle, 'rssMiB'),
      mib(row.after, 'rssMiB'),
      mib(row.after, 'peakMiB'),
      baseline ? DASH : ratioCell(ratios),
      baseline ? 'baseline' : verdictCell(ratios, SCALE_TARGET, hadErrors),
    ])
    if (row.note) notes.push(`${row.alg} ${row.setup}: ${row.note}`)
  }
  const out = [heading, '', ...alignColumns(header, body, [0, header.length - 1])]
  out.push(
    '',
    `registered = clients in the store (seeded by bench/seed-clients.ts, plus the one \`gatehouse clients create\` that`,
    'initialised the data dir); ids driven = distinct client ids the load rotates over, one per request.',
    `× 10 clients = median over the rounds of every pair of servers of req/s ÷ the ${BASELINE_CLIENTS}-client server's req/s`,
    `in the same round, and in brackets the range of the rounds; target: ${SCALE_TARGET}× or more, read on the median.`,
    "RSS = the server process's VmRSS from /proc after start-up (idle) and after the runs; peak = VmHWM; each the",
    'largest of the pairs.',
    ...CPU_LEGEND,
  )
  for (const row of rows) {
    if (!row.seed || row.baseline) continue
    out.push(
      row.seed.inserted > 0
        ? `seeding (not in the timings): ${fmt(row.seed.inserted, 0)} clients in ${row.seed.seconds} s ` +
            `(${fmt(row.seed.per_second, 0)}/s), database ${fmt(row.seed.database_bytes / 2 ** 20, 0)} MiB`
        : `seeding: reused a data dir already holding ${fmt(row.seed.already_seeded, 0)} seeded clients ` +
            `(database ${fmt(row.seed.database_bytes / 2 ** 20, 0)} MiB)`,
    )
    if (row.driven < CACHE_CAPACITY) {
      out.push(
        `${fmt(row.driven, 0)} ids fit Gatehouse's client cache (${fmt(CACHE_CAPACITY, 0)} entries), so after the warm-up ` +
          `they are served from memory; --spread ${fmt(2 * CACHE_CAPACITY, 0).replace(/,/g, '')} makes every request a store lookup.`,
      )
    }
  }
  if (notes.length) out.push('', ...notes)
  return out.join('\n')
}
