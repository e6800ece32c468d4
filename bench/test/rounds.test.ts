import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { LoadResult } from '../load.ts'
import { emptyMeasured, medianOfRuns, pairedRatios } from '../rounds.ts'
import { ratioCell } from '../table.ts'

function run(rps: number, p50Ms: number, p99Ms: number, cpu?: LoadResult['cpu']): LoadResult {
  return {
    rps,
    p50Ms,
    p99Ms,
    requests: rps * 3,
    errors: 1,
    detail: { non2xx: 1, socket: 0, timeouts: 0, invalidBody: 0 },
    durationSec: 3,
    ...(cpu ? { cpu } : {}),
  }
}

test('each figure is its own median over the runs, and the counts are summed', () => {
  // The slowest run has the best p99 and the fastest the worst: no one run holds every median.
  const runs = [
    run(100, 3, 5, { totalUs: 90, mainUs: 50 }),
    run(300, 1, 12, { totalUs: 70, mainUs: 40 }),
    run(200, 2, 7, { totalUs: 80, mainUs: 45 }),
    run(250, 4, 6, { totalUs: 75, mainUs: 60 }),
  ]
  const m = medianOfRuns(runs)
  assert.ok(m)
  assert.equal(m.rps, 225)
  assert.equal(m.p50Ms, 2.5)
  assert.equal(m.p99Ms, 6.5)
  assert.deepEqual(m.cpu, { totalUs: 77.5, mainUs: 47.5 })
  assert.equal(m.requests, 2550)
  assert.equal(m.errors, 4)
  assert.equal(m.detail.non2xx, 4)
  assert.equal(m.durationSec, 12)
})

test('no CPU figure unless every run has one, and nothing for no runs', () => {
  const m = medianOfRuns([run(100, 1, 2, { totalUs: 1, mainUs: 1 }), run(120, 1, 3)])
  assert.equal(m?.cpu, undefined)
  assert.equal(m?.p99Ms, 2.5)
  assert.equal(medianOfRuns([]), undefined)
})

test('a paired ratio is printed as the median over the rounds with their range', () => {
  const measured = (rates: number[]) => ({ ...emptyMeasured(), runs: rates.map((r) => run(r, 1, 2)) })
  // Each round's ratio, not the ratio of the medians (which would be 200 / 200 = 1).
  const ratios = pairedRatios(measured([90, 210, 180]), measured([100, 200, 200]))
  assert.deepEqual(ratios, [0.9, 1.05, 0.9])
  assert.equal(ratioCell(ratios), '0.90× (0.90–1.05)')
  assert.equal(ratioCell([0.87]), '0.87×')
  assert.equal(ratioCell([]), '—')
  // Rounds measured between runs of the baseline carry their own ratios.
  assert.deepEqual(
    pairedRatios({ ...measured([1]), baselineRatios: [0.88, 0.91] }, measured([5])),
    [0.88, 0.91],
  )
})
