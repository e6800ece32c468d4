import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { LoadResult } from '../load.ts'
import { emptyMeasured } from '../rounds.ts'
import { pairSummary, renderScaleTable, type ScaleRow, spreadPlan } from '../scale.ts'
import { seededClient, seededKey } from '../seeded.ts'

function row(registered: number, driven: number, baseline: boolean, rates: number[]): ScaleRow {
  const runs = rates.map(
    (rps): LoadResult => ({
      rps,
      p50Ms: 5,
      p99Ms: 12,
      requests: rps * 3,
      errors: 0,
      detail: { non2xx: 0, socket: 0, timeouts: 0, invalidBody: 0 },
      durationSec: 3,
    }),
  )
  const seed = {
    count: registered - 1,
    inserted: registered - 1,
    already_seeded: 0,
    seconds: 50,
    per_second: 20_000,
    database_bytes: 2 ** 28,
  }
  return {
    ...emptyMeasured(),
    runs,
    alg: 'ES256',
    setup: `${registered} clients`,
    registered,
    driven,
    baseline,
    seed,
  }
}

test('the large server driven over as few ids as the baseline is still held against it', () => {
  // `--spread 10`: both servers see ten ids; only the registered count tells them apart.
  const table = renderScaleTable(
    [row(11, 10, true, [8000, 8000, 8000]), row(1_000_001, 10, false, [7000, 7400, 7200])],
    'heading',
  ).split('\n')
  const large = table.find((line) => line.includes('1,000,001'))
  assert.ok(large)
  assert.match(large, /0\.90× \(0\.88–0\.93\)\s+met$/)
  const small = table.find((line) => /^ES256\s+11\s/.test(line))
  assert.match(small ?? '', /—\s+baseline$/)
  assert.ok(table.some((line) => line.startsWith('seeding (not in the timings): 1,000,000 clients')))
})

test("a spread plan sends each given client's own Basic credentials, one header per request in turn", () => {
  const key = seededKey('scale-test')
  const clients = [0, 7, 42].map((i) => seededClient(key, i))
  const plan = spreadPlan('http://127.0.0.1:9', clients)
  assert.equal(plan.url, 'http://127.0.0.1:9/oauth/token')
  assert.equal(plan.rotate?.header, 'authorization')
  const sent = plan.rotate!.values.map((value) => {
    const [scheme, encoded] = value.split(' ')
    assert.equal(scheme, 'Basic')
    const [id, secret] = Buffer.from(encoded!, 'base64').toString('utf8').split(':')
    return { clientId: decodeURIComponent(id!), clientSecret: decodeURIComponent(secret!) }
  })
  assert.deepEqual(sent, clients)
  assert.match(plan.body ?? '', /grant_type=client_credentials/)
})

test("a pair's summary reads only the rounds that pair ran", () => {
  // Two pairs of two rounds each: the first pair's large server ran at 0.80 and 0.82 ×, the second's at 0.95 and 0.97 ×.
  const small = row(11, 10, true, [10_000, 10_000, 10_000, 10_000])
  const large = row(1_000_001, 10_000, false, [8_000, 8_200, 9_500, 9_700])
  assert.equal(pairSummary([small, large], 0), '1000001 clients ÷ 11 clients 0.89× (0.80–0.97)')
  assert.equal(pairSummary([small, large], 2), '1000001 clients ÷ 11 clients 0.96× (0.95–0.97)')
})
