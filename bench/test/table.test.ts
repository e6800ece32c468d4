import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { LoadResult } from '../load.ts'
import type { Alg } from '../servers/jwt.ts'
import { type Row, renderVerdicts } from '../table.ts'
import type { ServerName } from '../targets.ts'

function row(alg: Alg, server: ServerName, rps: number[], p99Ms: number, errors = 0): Row {
  const runs: LoadResult[] = rps.map((r) => ({
    rps: r,
    p50Ms: 1,
    p99Ms,
    requests: r * 3,
    errors: 0,
    detail: { non2xx: 0, socket: 0, timeouts: 0, invalidBody: 0 },
    durationSec: 3,
  }))
  return { alg, server, status: 'ok', runs, median: runs[0], errors, tokensChecked: 0, tokensValid: 0 }
}

test('the targets are read on the paired medians, each against its own line', () => {
  const lines = renderVerdicts([
    row('RS256', 'gatehouse', [100, 100, 100], 20),
    row('RS256', 'oidc-provider', [60, 70, 65], 40),
    row('RS256', 'oauth2-server', [101, 99, 102], 21),
    // 100 ÷ 104 = 0.96: over 0.95.
    row('RS256', 'floor', [104, 104, 104], 10),
    row('ES256', 'gatehouse', [80, 80, 80], 16),
    // 80 ÷ 100 = 0.80: under 0.85; and p99 16 ÷ 10 = 1.6: over 1.5.
    row('ES256', 'floor', [100, 100, 100], 10),
    row('EdDSA', 'gatehouse', [90, 90, 90], 10),
    row('EdDSA', 'floor', [100, 100, 100], 10, 3),
  ])
  const verdict = (start: string) => lines.find((l) => l.startsWith(start))?.split(/ {2,}/)
  assert.deepEqual(verdict('RS256 req/s ≥ 0.95 × floor'), ['RS256 req/s ≥ 0.95 × floor', '0.96×', 'met'])
  assert.deepEqual(verdict('RS256 req/s ahead of oidc-provider')?.slice(-1), ['met'])
  // Level is not ahead: 100 against 101, 99 and 102 is a median of 0.99.
  assert.deepEqual(verdict('RS256 req/s ahead of oauth2-server'), [
    'RS256 req/s ahead of oauth2-server',
    '0.99× (0.98–1.01)',
    'MISSED',
  ])
  assert.deepEqual(verdict('ES256 req/s ≥ 0.85 × floor'), ['ES256 req/s ≥ 0.85 × floor', '0.80×', 'MISSED'])
  // A run with errors gets no verdict: its req/s counts only good answers.
  assert.deepEqual(verdict('EdDSA req/s ≥ 0.85 × floor')?.slice(-1), ['errors'])
  assert.deepEqual(verdict("RS256 p99 ≤ 1.5 × floor's"), ["RS256 p99 ≤ 1.5 × floor's", '2.00×', 'MISSED'])
  assert.deepEqual(verdict("ES256 p99 ≤ 1.5 × floor's")?.slice(-1), ['MISSED'])
  assert.deepEqual(verdict("EdDSA p99 ≤ 1.5 × floor's")?.slice(-1), ['met'])
})

test('no verdicts without Gatehouse and the row it is held against', () => {
  assert.deepEqual(renderVerdicts([row('ES256', 'floor', [100], 10)]), [])
  assert.equal(
    renderVerdicts([row('RS256', 'gatehouse', [100], 10), row('RS256', 'floor', [100], 10)]).length,
    5,
  )
})
