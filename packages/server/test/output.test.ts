import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { createOutput, details, type Output, table } from '../src/cli/output.ts'

function sink(options: { failWith?: string } = {}) {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      if (options.failWith) return done(Object.assign(new Error('write failed'), { code: options.failWith }))
      chunks.push(chunk.toString())
      done()
    },
  })
  return { stream, text: () => chunks.join('') }
}

async function* rowsOf(rows: Record<string, unknown>[], read = { count: 0 }) {
  for (const row of rows) {
    read.count++
    yield row
  }
}

const ROWS = [
  { id: 'a', name: 'first', scopes: ['x', 'y'] },
  { id: 'bb', name: 'a "quoted"\nname', scopes: [] },
  { id: 'c', name: null, scopes: ['z'] },
]

test('a listed JSON array reads exactly as the whole array printed at once', async () => {
  for (const rows of [[], ROWS.slice(0, 1), ROWS]) {
    const out = sink()
    await createOutput(true, out.stream).list(rowsOf(rows), ['id'])
    assert.equal(out.text(), `${JSON.stringify(rows, null, 2)}\n`)
  }
})

test('a listed table has one header and aligned columns, and says when it is empty', async () => {
  const out = sink()
  await createOutput(false, out.stream).list(rowsOf(ROWS.slice(0, 1).concat(ROWS[2]!)), [
    'id',
    'name',
    'scopes',
  ])
  assert.equal(out.text(), `${table([ROWS[0]!, ROWS[2]!], ['id', 'name', 'scopes'])}\n`)
  const empty = sink()
  await createOutput(false, empty.stream).list(rowsOf([]), ['id'])
  assert.equal(empty.text(), '(none)\n')
})

test('a table longer than a chunk keeps its header once and never narrows a column', async () => {
  const rows = Array.from({ length: 2500 }, (_, i) => ({ id: i === 2400 ? 'a-much-longer-id' : `id-${i}` }))
  const out = sink()
  await createOutput(false, out.stream).list(rowsOf(rows), ['id', 'n'])
  const lines = out.text().trimEnd().split('\n')
  assert.equal(lines.length, 2501)
  assert.equal(lines.filter((l) => l.startsWith('ID')).length, 1)
  assert.equal(lines.at(-1), `id-2499${' '.repeat('a-much-longer-id'.length - 'id-2499'.length)}  -`)
})

test('a reader that goes away ends the list quietly, without reading the rest; another write error is thrown', async () => {
  const rows = Array.from({ length: 100_000 }, (_, i) => ({ id: `client-${i}` }))
  const read = { count: 0 }
  await createOutput(true, sink({ failWith: 'EPIPE' }).stream).list(rowsOf(rows, read), ['id'])
  assert.ok(read.count < rows.length, `read ${read.count} of ${rows.length}`)
  await assert.rejects(
    createOutput(true, sink({ failWith: 'EIO' }).stream).list(rowsOf(rows), ['id']),
    /write failed/,
  )
})

test('control characters in a stored value are written as escapes, in tables and in details', async () => {
  // A name stored before names with control characters were refused: an ANSI colour, a line break, C1's CSI.
  const row = { id: 'x', name: 'evil\u001b[31mred\nline\u009b2J', scopes: ['a'] }
  const out = sink()
  await createOutput(false, out.stream).list(rowsOf([row]), ['id', 'name'])
  assert.equal(out.text().split('\n')[1], 'x   evil\\u001b[31mred\\u000aline\\u009b2J')
  assert.equal(table([row], ['name']).split('\n')[1], 'evil\\u001b[31mred\\u000aline\\u009b2J')
  assert.equal(details({ name: row.name }), 'name  evil\\u001b[31mred\\u000aline\\u009b2J')
  // JSON stays JSON, the same value, with every control character escaped (JSON.stringify leaves C1 raw).
  for (const write of [
    (out: Output) => out.list(rowsOf([row]), ['id']),
    async (out: Output) => out.result([row], () => ''),
  ]) {
    const json = sink()
    await write(createOutput(true, json.stream))
    assert.equal(JSON.parse(json.text())[0].name, row.name)
    assert.match(json.text(), /"evil\\u001b\[31mred\\nline\\u009b2J"/)
  }
})
