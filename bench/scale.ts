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
import { type Memory, memoryOf } from './spawn.ts'
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

export interface ScaleSetup {
  rows: ScaleRow[]
  contenders: Contender[]
  servers: RunningGatehouse[]
}

export async function startScale(o: ScaleOptions): Promise<ScaleSetup> {
  checkBuilt()
  const key = seededKey(DEFAULT_SEED)
  const small = gatehouseFiles(o.workDir, `${o.alg}-${BASELINE_CLIENTS}-clients`, o.alg)
  const big = gatehouseFiles(o.workDir, `${o.alg}-${o.count}-clients`, o.alg)
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

  const smallClients = spreadIndices(BASELINE_CLIENTS, BASELINE_CLIENTS).map((i) => seededClient(key, i))
  const bigClients = spreadIndices(o.count, o.spread).map((i) => seededClient(key, i))
  const servers: RunningGatehouse[] = []
  const rows: ScaleRow[] = []
  const contenders: Contender[] = []
  const entries = [
    {
      files: small,
      label: `${o.alg}-${BASELINE_CLIENTS}-clients`,
      seed: smallSeed,
      clients: smallClients,
      baseline: true,
    },
    { files: big, label: `${o.alg}-${o.count}-clients`, seed: bigSeed, clients: bigClients, baseline: false },
  ]
  for (const e of entries) {
    const server = await serveGatehouse(e.files, e.label, { workDir: o.workDir, readyTimeoutMs: 120_000 })
    servers.push(server)
    const registered = e.seed.already_seeded + e.seed.inserted + 1
    const row: ScaleRow = {
      ...emptyMeasured(),
      alg: o.alg,
      setup: `${registered.toLocaleString('en-US')} clients`,
      registered,
      driven: e.clients.length,
      baseline: e.baseline,
      seed: e.seed,
    }
    rows.push(row)
    const plan = spreadPlan(server.baseUrl, e.clients)
    contenders.push({
      label: row.setup,
      plan: async () => plan,
      fetchToken: fetchSpread(server.baseUrl, e.clients),
      jwksUrl: server.jwksUrl,
      result: row,
      pid: server.child.pid,
      // One request per driven id before the warm-up, so the runs measure the steady state rather than first
      // lookups; pointless beyond the cache's capacity, where every request is a lookup anyway.
      ...(e.clients.length > BASELINE_CLIENTS && e.clients.length <= CACHE_CAPACITY
        ? { primeRequests: e.clients.length }
        : {}),
    })
  }
  return { rows, contenders, servers }
}

// After the servers have settled: resident memory before any load, for comparison with after.
export function readIdleMemory(setup: ScaleSetup): void {
  setup.servers.forEach((s, i) => {
    const row = setup.rows[i]
    if (row) row.idle = memoryOf(s.child.pid)
  })
}

export function readAfterMemory(setup: ScaleSetup): void {
  setup.servers.forEach((s, i) => {
    const row = setup.rows[i]
    if (row) row.after = memoryOf(s.child.pid)
  })
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
    `× 10 clients = median over the rounds of req/s ÷ the ${BASELINE_CLIENTS}-client server's req/s in the same round,`,
    `and in brackets the range of the rounds; target: ${SCALE_TARGET}× or more, read on the median.`,
    "RSS = the server process's VmRSS from /proc after start-up (idle) and after the runs; peak = VmHWM.",
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
