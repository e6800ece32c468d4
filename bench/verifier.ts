// The verifier target: @gatehouse/verify's verify() at 0.8 × or more of bare jose.jwtVerify with the
// public key in hand, per algorithm, in one process. Both verify the same distinct at+jwt tokens; the
// verifier gets its key from a JWKS served over loopback node:http (fetched once, before the runs) and
// also checks typ, the RFC 9068 claims and a scope, as an API would call it.
//
// A shared two-core machine drifts by tens of percent within seconds, so the two are measured in short
// alternating slices (jose, verifier, verifier, jose, …) and the ratio is the median of the ratios of
// the slices of one round, which sees both under the same conditions.
//
//   npx node bench/verifier.ts [--quick] [--alg RS256,ES256,EdDSA] [--rounds N] [--slice MS] [--concurrency N]
//                              [--burst N]
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createVerifier } from '@gatehouse/verify'
import { jwtVerify } from 'jose'
import { median, progress } from './rounds.ts'
import {
  ALGS,
  type Alg,
  accessTokenClaims,
  BENCH_AUDIENCE,
  BENCH_SCOPE,
  createJwtSigner,
  generateSigningKey,
  parseAlg,
  publicJwks,
} from './servers/jwt.ts'
import { alignColumns, fmt, ratioCell, verdictCell } from './table.ts'

export const VERIFIER_TARGET = 0.8

export interface VerifierBenchOptions {
  quick?: boolean
  algs?: readonly Alg[]
  /** Rounds per algorithm: one slice of each contender, in alternating order. */
  rounds?: number
  /** Milliseconds of one slice. */
  sliceMs?: number
  /** Verifications in flight at once, as requests of a busy API would have them. */
  concurrency?: number
  /** Distinct tokens per algorithm, verified round and round. */
  tokens?: number
  /** Verifications of each contender started all at once, first thing (0: none). */
  burst?: number
}

export interface VerifierBenchRow {
  alg: Alg
  joseOps: number
  verifierOps: number
  /** Median over the rounds of verifier ÷ jose measured in the same round. */
  ratio: number
  /** verifier ÷ jose of every round, in round order. */
  ratios: number[]
  met: boolean
  /** ops/s of every slice, in round order. */
  joseSlices: number[]
  verifierSlices: number[]
}

export interface VerifierBenchResult {
  settings: Required<Omit<VerifierBenchOptions, 'algs'>> & { algs: Alg[] }
  rows: VerifierBenchRow[]
  met: boolean
  table: string
}

type Verify = (token: string) => Promise<unknown>

const ISSUER = 'https://gatehouse.bench'

/** Verifications per second over `durationMs`, `concurrency` at a time, cycling through `tokens`. */
async function measure(
  verify: Verify,
  tokens: string[],
  durationMs: number,
  concurrency: number,
): Promise<number> {
  let next = 0
  let done = 0
  const started = performance.now()
  const deadline = started + durationMs
  const worker = async () => {
    while (performance.now() < deadline) {
      await verify(tokens[next++ % tokens.length]!)
      done++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return done / ((performance.now() - started) / 1000)
}

/**
 * Verifies every token once, `concurrency` at a time, as the timed slices run them; rejects if one
 * fails. Not all at once: thousands in flight in a fresh process leave V8 allocating the promises and
 * frames that outlived them straight into the old generation (allocation-site pretenuring) for the
 * rest of its life, which slowed every later slice, bare jose's by a tenth to a fifth and the verifier's by
 * about a quarter at RS256 (`--burst 2000`).
 */
export async function verifyEach(
  verify: Verify,
  tokens: readonly string[],
  concurrency: number,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < tokens.length) await verify(tokens[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, tokens.length) }, worker))
}

async function serveJwks(body: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function benchAlg(alg: Alg, s: VerifierBenchResult['settings']): Promise<VerifierBenchRow> {
  const key = generateSigningKey(alg)
  const sign = createJwtSigner(key)
  const tokens = await Promise.all(
    Array.from({ length: s.tokens }, () => sign(accessTokenClaims(ISSUER, 'bench-client', BENCH_SCOPE))),
  )
  const jwks = await serveJwks(JSON.stringify(publicJwks(key)))
  try {
    const verifier = createVerifier({ issuer: ISSUER, audience: BENCH_AUDIENCE, jwksUri: jwks.url })
    await verifier.prefetch()
    const joseOptions = { issuer: ISSUER, audience: BENCH_AUDIENCE }
    const scope = { scope: BENCH_SCOPE }
    const contenders: [string, Verify][] = [
      ['jose', (token) => jwtVerify(token, key.publicKey, joseOptions)],
      ['verifier', (token) => verifier.verify(token, scope)],
    ]
    // A process that starts under a spike: `burst` verifications in flight at once, before any other.
    const spike = Array.from({ length: s.burst }, (_, i) => tokens[i % tokens.length]!)
    for (const [, verify] of contenders) await Promise.all(spike.map(verify))
    // Both must accept every token, and the verifier must still refuse one it should.
    for (const [, verify] of contenders) await verifyEach(verify, tokens, s.concurrency)
    const refused = await verifier.verify(tokens[0]!, { scope: 'bench.write' }).then(
      () => false,
      () => true,
    )
    if (!refused) throw new Error('the verifier accepted a token without the required scope')

    // Warm-up: both paths compiled and the thread pool busy before anything counts.
    for (const [, verify] of contenders) await measure(verify, tokens, 4 * s.sliceMs, s.concurrency)
    const slices: Record<string, number[]> = { jose: [], verifier: [] }
    for (let round = 0; round < s.rounds; round++) {
      // Alternate which goes first, so neither always measures a warmer or cooler machine.
      const order = round % 2 === 0 ? contenders : [...contenders].reverse()
      for (const [name, verify] of order)
        slices[name]!.push(await measure(verify, tokens, s.sliceMs, s.concurrency))
    }
    const jose = slices.jose!
    const verifierSlices = slices.verifier!
    const ratios = verifierSlices.map((v, i) => v / jose[i]!)
    const ratio = median(ratios)!
    progress(
      `verifier bench ${alg}: jose ${Math.round(median(jose)!)} ops/s, verifier ${Math.round(median(verifierSlices)!)} ` +
        `ops/s, ratio ${ratio.toFixed(2)} (${s.rounds} rounds)`,
    )
    return {
      alg,
      joseOps: median(jose)!,
      verifierOps: median(verifierSlices)!,
      ratio,
      ratios,
      met: ratio >= VERIFIER_TARGET,
      joseSlices: jose,
      verifierSlices,
    }
  } finally {
    await jwks.close()
  }
}

function render(
  rows: VerifierBenchRow[],
  s: VerifierBenchResult['settings'],
  load: [number, number],
): string {
  const header = [
    'alg',
    'jose.jwtVerify ops/s',
    'verifier.verify ops/s',
    'verifier ×',
    `≥ ${VERIFIER_TARGET}`,
  ]
  const body = rows.map((r) => [
    r.alg,
    fmt(r.joseOps, 0),
    fmt(r.verifierOps, 0),
    ratioCell(r.ratios),
    verdictCell(r.ratios, VERIFIER_TARGET, false),
  ])
  return [
    `Verifier vs bare jose.jwtVerify(token, publicKey, {issuer, audience}) — in process, ${s.tokens} distinct tokens, ` +
      `${s.concurrency} in flight, ${s.rounds} rounds of ${s.sliceMs} ms slices alternating (median)` +
      (s.burst > 0 ? `, after a burst of ${s.burst} at once` : ''),
    `node ${process.versions.node}, ${availableParallelism()} × ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
      `load average ${load[0].toFixed(2)} at start, ${load[1].toFixed(2)} at end`,
    '',
    ...alignColumns(header, body, [0]),
    '',
    'verifier.verify: key from a JWKS over loopback (cached), typ, iss, aud, exp, RFC 9068 claims, scope bench.read.',
    'ops/s = median slice; verifier × = median over the rounds of verifier ÷ jose in the same round, and in',
    'brackets the range of the rounds; the target reads the median.',
  ].join('\n')
}

/** Runs the verifier bench, prints its table on stdout and writes bench/results/verifier-latest.json. */
export async function runVerifierBench(options: VerifierBenchOptions = {}): Promise<VerifierBenchResult> {
  const quick = options.quick ?? false
  const settings: VerifierBenchResult['settings'] = {
    quick,
    algs: [...(options.algs ?? ALGS)],
    rounds: options.rounds ?? (quick ? 16 : 30),
    sliceMs: options.sliceMs ?? (quick ? 100 : 200),
    concurrency: options.concurrency ?? 16,
    tokens: options.tokens ?? 2000,
    burst: options.burst ?? 0,
  }
  const loadAtStart = loadavg()[0] ?? 0
  progress(
    `verifier bench: ${settings.algs.join(', ')}; ${settings.rounds} rounds of ${settings.sliceMs} ms per contender, ` +
      `${settings.concurrency} in flight; about ${Math.round((settings.algs.length * (settings.rounds + 4) * 2 * settings.sliceMs) / 1000 + 2 * settings.algs.length)} s`,
  )
  const rows: VerifierBenchRow[] = []
  for (const alg of settings.algs) rows.push(await benchAlg(alg, settings))
  const table = render(rows, settings, [loadAtStart, loadavg()[0] ?? 0])
  console.log(table)
  const result = { settings, rows, met: rows.every((r) => r.met), table }
  const dir = fileURLToPath(new URL('./results/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    `${dir}verifier-latest.json`,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.versions.node, loadAtStart, settings, rows }, null, 2)}\n`,
  )
  return result
}

/** The `--verifier` mode's command line (also `npx node bench/verifier.ts …`); answers the exit status. */
export async function verifierMain(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      verifier: { type: 'boolean' },
      quick: { type: 'boolean', default: false },
      alg: { type: 'string' },
      rounds: { type: 'string' },
      slice: { type: 'string' },
      concurrency: { type: 'string' },
      burst: { type: 'string' },
    },
  })
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value))
  const result = await runVerifierBench({
    quick: values.quick,
    ...(values.alg ? { algs: values.alg.split(',').map((a) => parseAlg(a.trim())) } : {}),
    ...(values.rounds ? { rounds: number(values.rounds)! } : {}),
    ...(values.slice ? { sliceMs: number(values.slice)! } : {}),
    ...(values.concurrency ? { concurrency: number(values.concurrency)! } : {}),
    ...(values.burst ? { burst: number(values.burst)! } : {}),
  })
  return result.met ? 0 : 1
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  process.exitCode = await verifierMain(process.argv.slice(2))
