// `npm run bench -- --instructions`: the instructions each server executes per token request, counted by
// valgrind's callgrind, Gatehouse against the floor (and the peers, with --only).
//
// req/s and CPU time on a shared two-core VM move ±15 % between runs of the same build, so a change of a
// microsecond on the hot path cannot be told from noise by timing; this VM also exposes no hardware
// counters to `perf`. An instruction count does not depend on the host's speed: repeated counts of one
// build agree to within about 1 %. It is not a throughput figure (it weighs a cache miss like an add),
// so it tells where the work is and whether a change removed some, and the timed tables stay the targets.
//
// Each server runs under callgrind with counting off, is warmed up, and then counts exactly the requests
// of the measured window: `callgrind_control` turns counting on before them and dumps after. All threads
// are counted (the signing threads too) and the main thread on its own.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startDialectServer } from './dialects.ts'
import { type CannonPlan, cannonPlan, runCannon, type TokenRequest } from './load.ts'
import { listOption, parseServer, positive } from './options.ts'
import { type Contender, progress } from './rounds.ts'
import { ALGS, type Alg, parseAlg } from './servers/jwt.ts'
import type { StartContext } from './spawn.ts'
import { alignColumns, fmt } from './table.ts'
import { SERVER_NAMES, type ServerName, startServer } from './targets.ts'
import { verifySample } from './verify.ts'

const USAGE =
  'usage: npm run bench -- --instructions [--quick] [--alg RS256,ES256,EdDSA] [--only gatehouse,floor] ' +
  '[--requests N] [--warmup N] [--concurrency N] [--keep-files] [--dialects]'

export interface InstructionSettings {
  algs: Alg[]
  servers: ServerName[]
  requests: number
  warmup: number
  concurrency: number
  keepFiles: boolean
  dialects: boolean
}

export interface InstructionRow {
  alg: Alg
  /** The server, or with --dialects the endpoint. */
  label: string
  /** Per token request, all threads and the main thread. */
  all: number
  main: number
}

function parseSettings(args: string[]): InstructionSettings {
  const { values } = parseArgs({
    args,
    options: {
      instructions: { type: 'boolean' },
      quick: { type: 'boolean', default: false },
      alg: { type: 'string' },
      only: { type: 'string' },
      requests: { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      'keep-files': { type: 'boolean', default: false },
      dialects: { type: 'boolean', default: false },
    },
  })
  if (values.dialects && values.only !== undefined) throw new Error('--only belongs to the peer table')
  const count = (value: string | undefined, fallback: number, name: string) =>
    Math.round(positive(value, fallback, name))
  return {
    algs: values.alg === undefined ? ['ES256'] : listOption(values.alg, ALGS, parseAlg),
    servers:
      values.only === undefined ? ['gatehouse', 'floor'] : listOption(values.only, SERVER_NAMES, parseServer),
    requests: count(values.requests, values.quick ? 300 : 2000, 'requests'),
    warmup: count(values.warmup, values.quick ? 2000 : 20_000, 'warmup'),
    concurrency: count(values.concurrency, 16, 'concurrency'),
    keepFiles: values['keep-files'],
    dialects: values.dialects,
  }
}

/**
 * Kept-alive connections to one server, `concurrency` of them, the same for its warm-up and
 * its counted window, as wrk sends hundreds of requests on each of its connections. Fresh
 * connections at the window's start put node:http's and the streams' functions in Gatehouse's
 * process back to lower tiers for part of it: at RS256 its main thread counted 184.5k
 * instructions a token on fresh connections and 169.5k on kept ones (the floor 153.3k and
 * 152.8k).
 */
function connections(concurrency: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: concurrency })
}

/** Sends `count` requests, as many at a time as `agent` has connections; answers the failures. */
async function send(req: TokenRequest, count: number, agent: Agent): Promise<number> {
  return sendPlan(cannonPlan(req), () => req.body, count, agent)
}

/** Sends `count` requests of a plan, each with the next body. */
async function sendPlan(
  plan: CannonPlan,
  nextBody: () => string | undefined,
  count: number,
  agent: Agent,
): Promise<number> {
  let left = count
  let failed = 0
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const sent = request(plan.url, { method: plan.method, headers: plan.headers, agent }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => {
          if (res.statusCode !== 200 || !plan.verifyBody(body)) failed++
          resolve()
        })
      })
      sent.on('error', reject)
      sent.end(nextBody())
    })
  await Promise.all(
    Array.from({ length: agent.maxSockets }, async () => {
      while (left-- > 0) await one()
    }),
  )
  return failed
}

// Signed bodies come from a fresh plan every slice, which re-bases their times: they must lie
// within ±300 s of the server's clock, and under callgrind 20,000 requests take minutes.
const SIGNED_SLICE = 1000

/**
 * Sends `count` requests of a dialect: signed single-use bodies (signature) each once, made
 * as they are sent, from a fresh plan every slice; refresh chains through autocannon, which
 * reads each answer; one repeated body for the rest.
 */
async function sendDialect(contender: Contender, count: number, agent: Agent): Promise<number> {
  let failed = 0
  for (let sent = 0; sent < count; ) {
    const plan = await contender.plan()
    const slice = plan.nextBody ? Math.min(SIGNED_SLICE, count - sent) : count - sent
    if (plan.nextBody) {
      failed += await sendPlan(plan, plan.nextBody, slice, agent)
    } else if (plan.requests || plan.setupClient) {
      failed += (await runCannon(plan, agent.maxSockets, 0, slice)).errors
    } else {
      failed += await sendPlan(plan, () => plan.body, slice, agent)
    }
    sent += slice
  }
  return failed
}

function callgrindControl(option: string, pid: number): void {
  execFileSync('callgrind_control', [option, String(pid)], { stdio: 'ignore', timeout: 60_000 })
}

/** Instructions in each thread's file of dump `part`, the main thread's first. */
function readDump(workDir: string, base: string, part: number): number[] {
  const files = readdirSync(workDir)
    .filter((name) => name.startsWith(`${base}.${part}-`))
    .sort()
  if (files.length === 0) throw new Error(`callgrind wrote no dump ${base}.${part}-*`)
  return files.map((name) => instructionsIn(readFileSync(join(workDir, name), 'utf8')))
}

/** The instructions a callgrind dump counted (its `summary:` line, or `totals:` in older files). */
export function instructionsIn(dump: string): number {
  const totals = /^(?:summary|totals): (\d+)/m.exec(dump)
  if (!totals) throw new Error('a callgrind dump without a summary line')
  return Number(totals[1])
}

// Gatehouse's young generation under timed load: `--trace-gc` shows each scavenge free about 13 MiB.
const YOUNG_SEMI_SPACE_MIB = 16

/**
 * A server started under callgrind, counting nothing until asked. Its young generation is
 * pinned at the size it reaches in timed runs. Under valgrind, where a server allocates some
 * fifty times fewer bytes a millisecond, V8 kept it at about 1 MiB at RS256: a scavenge every
 * 50 requests, a tenth of the main thread's count, where timed runs scavenge every 500 or so.
 */
function underCallgrind(workDir: string, base: string): Omit<StartContext, 'workDir'> {
  return {
    nodeFlags: [`--min-semi-space-size=${YOUNG_SEMI_SPACE_MIB}`],
    launcher: [
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
      '--separate-threads=yes',
      `--callgrind-out-file=${join(workDir, base)}`,
    ],
    readyTimeoutMs: 180_000,
  }
}

/** The counted windows of one server process, a dump each. */
class Windows {
  private readonly pid: number
  private readonly workDir: string
  private readonly base: string
  private dumps = 0

  constructor(pid: number, workDir: string, base: string) {
    this.pid = pid
    this.workDir = workDir
    this.base = base
  }

  /** Instructions per request of the `requests` that `send` makes; `send` answers its failures. */
  async count(
    tag: string,
    requests: number,
    send: () => Promise<number>,
  ): Promise<{ all: number; main: number }> {
    progress(`${tag} counting ${requests} requests`)
    callgrindControl(this.dumps === 0 ? '--instr=on' : '--zero', this.pid)
    const failed = await send()
    callgrindControl('--dump', this.pid)
    if (failed > 0) throw new Error(`${tag} ${failed} of ${requests} answers were not a token`)
    const threads = readDump(this.workDir, this.base, ++this.dumps)
    const counts = { all: threads.reduce((sum, n) => sum + n, 0) / requests, main: threads[0]! / requests }
    progress(`${tag} ${fmt(counts.all, 0)} instructions a request, ${fmt(counts.main, 0)} on the main thread`)
    return counts
  }
}

async function measure(
  alg: Alg,
  server: ServerName,
  s: InstructionSettings,
  workDir: string,
): Promise<InstructionRow> {
  const base = `callgrind-${server}-${alg}`
  const started = await startServer(server, alg, { workDir, ...underCallgrind(workDir, base) })
  const agent = connections(s.concurrency)
  try {
    const tag = `${alg} ${server}:`
    const sample = await verifySample(started.request, started.jwksUrl, alg, 3)
    if (sample.valid !== sample.checked) throw new Error(`${tag} invalid token: ${sample.failures[0]}`)
    progress(`${tag} warm-up, ${s.warmup} requests`)
    await send(started.request, s.warmup, agent)
    const windows = new Windows(started.child.pid, workDir, base)
    const counts = await windows.count(tag, s.requests, () => send(started.request, s.requests, agent))
    return { alg, label: server, ...counts }
  } finally {
    agent.destroy()
    await started.child.stop()
  }
}

/** The dialect endpoints of one server (bench/dialects.ts), each warmed up and counted in turn. */
async function measureDialects(alg: Alg, s: InstructionSettings, workDir: string): Promise<InstructionRow[]> {
  const base = `callgrind-dialects-${alg}`
  const server = await startDialectServer(alg, workDir, s.concurrency, underCallgrind(workDir, base))
  const agent = connections(s.concurrency)
  try {
    const windows = new Windows(server.gatehouse.child.pid, workDir, base)
    const rows: InstructionRow[] = []
    for (const contender of server.contenders) {
      const tag = `${alg} ${contender.dialect}:`
      progress(`${tag} warm-up, ${s.warmup} requests`)
      const failed = await sendDialect(contender, s.warmup, agent)
      if (failed > 0) throw new Error(`${tag} ${failed} failed answers in the warm-up`)
      const counts = await windows.count(tag, s.requests, () => sendDialect(contender, s.requests, agent))
      rows.push({ alg, label: contender.dialect, ...counts })
    }
    const broken = server.chainNotes()
    if (broken.length > 0) throw new Error(`refresh chains broke: ${broken[0]}`)
    return rows
  } finally {
    agent.destroy()
    await server.gatehouse.child.stop()
  }
}

export function renderInstructionTable(rows: readonly InstructionRow[], s: InstructionSettings): string {
  const baseline = s.dialects ? 'standard' : 'gatehouse'
  const header = [
    'alg',
    s.dialects ? 'endpoint' : 'server',
    'instructions',
    'main thread',
    `${baseline} ×`,
    'main ×',
  ]
  const body = rows.map((row) => {
    const base = rows.find((other) => other.alg === row.alg && other.label === baseline)
    const times = (theirs: number, ours: number | undefined) => (ours ? `${fmt(theirs / ours, 2, 2)}×` : '—')
    return [
      row.alg,
      row.label,
      fmt(row.all, 0),
      fmt(row.main, 0),
      times(row.all, base?.all),
      times(row.main, base?.main),
    ]
  })
  return [
    `Instructions per token request (callgrind; ${s.requests} requests after ${s.warmup} of warm-up, ${s.concurrency} in flight)`,
    '',
    ...alignColumns(header, body, [0, 1]),
    '',
    s.dialects
      ? "standard × = the row's instructions ÷ the standard endpoint's: above 1, the dialect's request costs more."
      : "gatehouse × = the row's instructions ÷ Gatehouse's: above 1, Gatehouse does less work per token.",
  ].join('\n')
}

export async function instructionsMain(args: string[]): Promise<number> {
  let s: InstructionSettings
  try {
    s = parseSettings(args)
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
    progress(
      missing
        ? 'valgrind is not installed: apt-get install -y valgrind'
        : `${(err as Error).message}\n${USAGE}`,
    )
    return 2
  }
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-instructions-'))
  const rows: InstructionRow[] = []
  try {
    for (const alg of s.algs) {
      if (s.dialects) rows.push(...(await measureDialects(alg, s, workDir)))
      else for (const server of s.servers) rows.push(await measure(alg, server, s, workDir))
    }
  } catch (err) {
    progress(`${(err as Error).message}\nserver logs and callgrind files kept in ${workDir}`)
    return 1
  }
  if (s.keepFiles)
    progress(`callgrind files kept in ${workDir}: callgrind_annotate <file> shows where the work is`)
  else rmSync(workDir, { recursive: true, force: true })
  console.log(renderInstructionTable(rows, s))
  return 0
}
