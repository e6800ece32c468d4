// The one table a reader compares: throughput, latency, errors, and Gatehouse's ratio to each row.
import type { LoadResult } from './load.ts'
import { comparedTo, median, pairedRatios } from './rounds.ts'
import type { Alg } from './servers/jwt.ts'
import type { ServerName } from './targets.ts'

export interface Row {
  alg: Alg
  server: ServerName
  status: 'ok' | 'failed' | 'skipped'
  note?: string
  median?: LoadResult
  runs: LoadResult[]
  // Summed over every measured run, not just the median one, so a flaky run cannot hide.
  errors: number
  tokensChecked: number
  tokensValid: number
}

export const DASH = '—'

export function fmt(value: number, digits: number, minDigits = digits): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: minDigits, maximumFractionDigits: digits })
}

/** The headers of the cells every table shares, in measuredCells' order. */
export const MEASURED_COLUMNS = [
  'req/s',
  'p50 ms',
  'p99 ms',
  'cpu µs',
  'main µs',
  'errors',
  'tokens ok',
] as const

/** The legend of the CPU columns, printed under every table that has them. */
export const CPU_LEGEND = [
  'cpu µs = the server process’s CPU time per request (median over the runs), all threads (from /proc); main µs = its',
  'main thread’s part. Steadier than req/s on a shared machine, and it shows where a server spends the cores.',
]

/** The cells every table shares: req/s, p50, p99, CPU per request, errors, tokens verified. */
export function measuredCells(row: {
  median?: LoadResult
  errors: number
  tokensChecked: number
  tokensValid: number
}): string[] {
  const m = row.median
  return [
    m ? fmt(m.rps, 0) : DASH,
    // autocannon reports whole milliseconds, wrk microseconds: show no more precision than was measured.
    m ? fmt(m.p50Ms, 1, 0) : DASH,
    m ? fmt(m.p99Ms, 1, 0) : DASH,
    m?.cpu ? fmt(m.cpu.totalUs, 0) : DASH,
    m?.cpu ? fmt(m.cpu.mainUs, 0) : DASH,
    m ? fmt(row.errors, 0) : DASH,
    row.tokensChecked ? `${row.tokensValid}/${row.tokensChecked}` : DASH,
  ]
}

function ratio(gatehouse: Row | undefined, row: Row): string {
  if (row.server === 'gatehouse' || !gatehouse?.median || !row.median) return DASH
  return ratioCell(pairedRatios(gatehouse, row))
}

/**
 * A paired ratio as the tables print it: the median over the rounds, and the range of the rounds when they
 * disagree, `0.87× (0.84–0.91)`. The verdicts read the median; the range tells a miss by noise from a miss.
 */
export function ratioCell(ratios: readonly number[]): string {
  const middle = median(ratios)
  if (middle === undefined) return DASH
  const low = Math.min(...ratios)
  const high = Math.max(...ratios)
  const range = low === high ? '' : ` (${fmt(low, 2, 2)}–${fmt(high, 2, 2)})`
  return `${fmt(middle, 2, 2)}×${range}`
}

/**
 * A target's verdict, read on the median of the paired ratios. Runs with errors get none: their req/s counts
 * only good answers, and a server refusing requests (rate-limited, say) is not measured at all.
 */
export function verdictCell(ratios: readonly number[], target: number, hadErrors: boolean): string {
  const middle = median(ratios)
  if (middle === undefined) return DASH
  if (hadErrors) return 'errors'
  if (middle >= target) return 'met'
  // A median just under the line prints as the line itself (0.9495 as 0.95×): the verdict shows
  // it cut, not rounded, to three digits, which never reads as the line.
  if (fmt(middle, 2, 2) !== fmt(target, 2, 2)) return 'MISSED'
  return `MISSED (${(Math.floor(middle * 1000) / 1000).toFixed(3)}×)`
}

/**
 * A plain-text table: a header, a rule, the rows; names left-aligned (the `left` columns),
 * numbers right-aligned, and a blank line wherever `groups` (one label per row) changes.
 */
export function alignColumns(
  header: readonly string[],
  body: readonly string[][],
  left: readonly number[],
  groups?: readonly (string | undefined)[],
): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (left.includes(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  const out = [line(header), line(widths.map((w) => '-'.repeat(w)))]
  for (const [i, cells] of body.entries()) {
    if (groups && i > 0 && groups[i] !== groups[i - 1]) out.push('')
    out.push(line(cells))
  }
  return out
}

export function renderTable(rows: Row[], heading: string): string {
  const header = ['alg', 'server', ...MEASURED_COLUMNS, 'gatehouse ×']
  const body: string[][] = []
  const notes: string[] = []
  for (const row of rows) {
    const gatehouse = rows.find((r) => r.alg === row.alg && r.server === 'gatehouse')
    body.push([row.alg, row.server, ...measuredCells(row), ratio(gatehouse, row)])
    if (row.note) notes.push(`${row.alg} ${row.server}: ${row.note}`)
  }
  const out = [
    heading,
    '',
    ...alignColumns(
      header,
      body,
      [0, 1],
      rows.map((r) => r.alg),
    ),
  ]
  out.push(
    '',
    'gatehouse × = Gatehouse req/s ÷ that row’s req/s in the same round, median over the rounds and (in brackets)',
    'their range (above 1 means Gatehouse is faster); paired by round so that the machine’s drift cancels out.',
  )
  out.push(
    'tokens ok = sampled tokens whose signature verified against the server’s JWKS (jose).',
    ...CPU_LEGEND,
  )
  const verdicts = renderVerdicts(rows)
  if (verdicts.length) out.push('', ...verdicts)
  if (notes.length) out.push('', ...notes)
  return out.join('\n')
}

// The targets for this mode: throughput against the floor and, at RS256, against both peers (ahead
// of them: at least level, read on the median); and p99 latency no worse than 1.5 × the floor's.
const THROUGHPUT_TARGETS: { alg: Alg; against: ServerName; target: number }[] = [
  { alg: 'RS256', against: 'floor', target: 0.95 },
  { alg: 'RS256', against: 'oidc-provider', target: 1 },
  { alg: 'RS256', against: 'oauth2-server', target: 1 },
  { alg: 'ES256', against: 'floor', target: 0.85 },
  { alg: 'EdDSA', against: 'floor', target: 0.85 },
]
const P99_TARGET = 1.5

/** The targets' verdicts, one line each, for the algorithms and servers that were measured. */
export function renderVerdicts(rows: readonly Row[]): string[] {
  const find = (alg: Alg, server: ServerName) => rows.find((r) => r.alg === alg && r.server === server)
  const lines: string[][] = []
  for (const { alg, against, target } of THROUGHPUT_TARGETS) {
    const gatehouse = find(alg, 'gatehouse')
    const other = find(alg, against)
    if (!gatehouse || !other) continue
    const { ratios, hadErrors } = comparedTo(gatehouse, other)
    const label = target === 1 ? `${alg} req/s ahead of ${against}` : `${alg} req/s ≥ ${target} × ${against}`
    lines.push([label, ratioCell(ratios), verdictCell(ratios, target, hadErrors)])
  }
  for (const alg of new Set(rows.map((r) => r.alg))) {
    const gatehouse = find(alg, 'gatehouse')?.median
    const floor = find(alg, 'floor')?.median
    if (!gatehouse || !floor || floor.p99Ms <= 0) continue
    const ratio = gatehouse.p99Ms / floor.p99Ms
    lines.push([
      `${alg} p99 ≤ ${P99_TARGET} × floor's`,
      `${fmt(ratio, 2, 2)}×`,
      ratio <= P99_TARGET ? 'met' : 'MISSED',
    ])
  }
  if (lines.length === 0) return []
  return [
    'the targets (BENCHMARKS.md), read on the medians:',
    ...alignColumns(['target', 'gatehouse', 'verdict'], lines, [0, 2]),
  ]
}
