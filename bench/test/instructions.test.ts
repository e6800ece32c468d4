import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type InstructionRow, instructionsIn, renderInstructionTable } from '../instructions.ts'

const SETTINGS = {
  algs: [],
  servers: [],
  requests: 2000,
  warmup: 2000,
  concurrency: 16,
  keepFiles: false,
  dialects: false,
}

test("a dump's count is its summary line, and a file without one is refused", () => {
  const dump = 'version: 1\ncreator: callgrind-3.19.0\npid: 6962\nevents: Ir\nsummary: 443587521\n\nfl=(1)\n'
  assert.equal(instructionsIn(dump), 443_587_521)
  assert.equal(instructionsIn('events: Ir\ntotals: 886\n'), 886)
  assert.throws(() => instructionsIn('events: Ir\n'), /without a summary/)
})

test("each row is compared with Gatehouse's count at its own algorithm", () => {
  const rows: InstructionRow[] = [
    { alg: 'ES256', label: 'gatehouse', all: 500_000, main: 200_000 },
    { alg: 'ES256', label: 'floor', all: 450_000, main: 190_000 },
    { alg: 'EdDSA', label: 'floor', all: 300_000, main: 150_000 },
  ]
  const lines = renderInstructionTable(rows, SETTINGS).split('\n')
  const row = (alg: string, server: string) =>
    lines.find((line) => line.startsWith(alg) && line.includes(` ${server} `))?.split(/\s{2,}/)
  assert.deepEqual(row('ES256', 'gatehouse')?.slice(2), ['500,000', '200,000', '1.00×', '1.00×'])
  assert.deepEqual(row('ES256', 'floor')?.slice(2), ['450,000', '190,000', '0.90×', '0.95×'])
  // No Gatehouse row at EdDSA: nothing to compare with.
  assert.deepEqual(row('EdDSA', 'floor')?.slice(4), ['—', '—'])
})

test('with --dialects each endpoint is compared with the standard endpoint', () => {
  const rows: InstructionRow[] = [
    { alg: 'EdDSA', label: 'standard', all: 680_000, main: 170_000 },
    { alg: 'EdDSA', label: 'signature', all: 748_000, main: 195_500 },
  ]
  const lines = renderInstructionTable(rows, { ...SETTINGS, dialects: true }).split('\n')
  assert.ok(lines.some((line) => /^alg\s+endpoint\s+instructions\s+main thread\s+standard ×/.test(line)))
  const signature = lines.find((line) => line.includes(' signature '))?.split(/\s{2,}/)
  assert.deepEqual(signature?.slice(2), ['748,000', '195,500', '1.10×', '1.15×'])
})
