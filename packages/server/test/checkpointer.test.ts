import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Checkpointer } from '../src/stores/sqlite/checkpointer.ts'
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.ts'

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-checkpoints-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'gatehouse.db')
}

const size = (file: string) => statSync(file).size
const later = () => Math.floor(Date.now() / 1000) + 300

// Rounds of concurrent replay-cache writes, one group commit each, a millisecond apart.
async function write(store: SqliteStore, rounds: number, prefix: string): Promise<boolean[]> {
  const results: boolean[] = []
  for (let round = 0; round < rounds; round++) {
    const group = Array.from({ length: 10 }, (_, i) => store.consumeOnce(`${prefix}:${round}:${i}`, later()))
    results.push(...(await Promise.all(group)))
    await sleep(1)
  }
  return results
}

test('the thread copies commits into the database file and keeps the WAL bounded', async (t) => {
  const file = scratch(t)
  const store = new SqliteStore(file, { checkpointThread: { every: 10, restartAt: 64 } })
  t.after(() => store.close())
  const before = size(file)
  // The main connection never checkpoints, so only the thread can grow the file. Until the thread
  // has started (slowly on a busy machine), the WAL grows unchecked: the bound below is the thread's.
  assert.ok((await write(store, 10, 'started')).every(Boolean))
  for (let i = 0; i < 250 && size(file) === before; i++) await sleep(20)
  assert.ok(size(file) > before, `database file ${before} → ${size(file)} bytes`)
  const results = await write(store, 400, 'a')
  assert.ok(results.every(Boolean))
  // 4,000 rows in 400 commits write thousands of WAL frames; restarts keep the file to a few hundred.
  const wal = size(`${file}-wal`)
  assert.ok(wal < 400 * 4096 * 2, `WAL is ${wal} bytes`)
  // Nothing written is lost or forgotten: every key is spent.
  assert.ok((await write(store, 5, 'a')).every((fresh) => !fresh))
})

// Bytes 12–15 of a WAL's header count its restarts.
const walGeneration = (file: string) => readFileSync(`${file}-wal`).readUInt32BE(12)

test('once a checkpoint has copied everything, the thread starts the WAL over itself', async (t) => {
  const file = scratch(t)
  const store = new SqliteStore(file, { checkpointThread: { every: 10, restartAt: 64 } })
  t.after(() => store.close())
  await write(store, 12, 'd')
  const before = walGeneration(file)
  // No more commits from the store: only the thread can start the WAL over now.
  let after = before
  for (let i = 0; i < 100 && after === before; i++) {
    await sleep(20)
    after = walGeneration(file)
  }
  assert.ok(after > before, `WAL generation ${before} → ${after}`)
  assert.ok(
    (await write(store, 1, 'd')).every((fresh) => !fresh),
    'earlier keys are still spent',
  )
})

test('writes held back while the WAL restarts are committed once it is released', async (t) => {
  const file = scratch(t)
  const store = new SqliteStore(file, { checkpointThread: { every: 10, restartAt: 64 } })
  t.after(() => store.close())
  // A reader on another connection keeps an old snapshot: the RESTART waits for it, then gives up.
  const reader = new DatabaseSync(file)
  t.after(() => reader.close())
  reader.exec('BEGIN')
  reader.prepare('SELECT count(*) FROM used_once').get()
  const results = await write(store, 200, 'b')
  reader.exec('COMMIT')
  assert.equal(results.length, 2000)
  assert.ok(results.every(Boolean), 'every write committed')
  const seen = new DatabaseSync(file)
  t.after(() => seen.close())
  const { n } = seen.prepare("SELECT count(*) AS n FROM used_once WHERE key LIKE 'b:%'").get() as {
    n: number
  }
  assert.equal(n, 2000)
})

test('a thread that cannot open the database hands checkpoints back and releases the writers', async () => {
  const reasons: string[] = []
  let released = 0
  const checkpointer = new Checkpointer(join(tmpdir(), 'no-such-dir', 'x', 'gatehouse.db'), {
    released: () => released++,
    failed: (reason) => reasons.push(reason),
  })
  for (let i = 0; i < 100 && reasons.length === 0; i++) await sleep(20)
  assert.equal(reasons.length, 1, 'failed once')
  assert.match(reasons[0]!, /unable to open/)
  assert.equal(released, 1)
  assert.equal(checkpointer.holding(), false)
  await checkpointer.close()
})

test('closing the store stops the thread and leaves every write in the database', async (t) => {
  const file = scratch(t)
  const store = new SqliteStore(file, { checkpointThread: true })
  await write(store, 20, 'c')
  await store.close()
  await store.close()
  // The last connection to close checkpoints the WAL away.
  assert.throws(() => statSync(`${file}-wal`), /ENOENT/)
  const db = new DatabaseSync(file)
  const { n } = db.prepare('SELECT count(*) AS n FROM used_once').get() as { n: number }
  db.close()
  assert.equal(n, 200)
})

test('a process with nothing else to do waits for the writes the thread holds back', async (t) => {
  const file = scratch(t)
  // Groups of writes back to back, with no timer or socket of their own to keep the process alive.
  // A reader on a connection of its own keeps each restart of the WAL waiting for it (up to the
  // thread's busy timeout), and the writers are held back meanwhile.
  const script = `
    import { DatabaseSync } from 'node:sqlite'
    import { SqliteStore } from ${JSON.stringify(new URL('../src/stores/sqlite/sqlite-store.ts', import.meta.url).pathname)}
    const store = new SqliteStore(${JSON.stringify(file)}, { checkpointThread: { every: 10, restartAt: 64 } })
    const reader = new DatabaseSync(${JSON.stringify(file)})
    reader.exec('BEGIN')
    reader.prepare('SELECT count(*) FROM used_once').get()
    const later = Math.floor(Date.now() / 1000) + 300
    let written = 0
    for (let round = 0; round < 2000; round++) {
      const group = Array.from({ length: 100 }, (_, i) => store.consumeOnce(round + ':' + i, later))
      written += (await Promise.all(group)).filter(Boolean).length
    }
    reader.exec('COMMIT')
    reader.close()
    await store.close()
    console.log(written)
  `
  // From a file: a script given with -e keeps the process alive by itself.
  const main = join(dirname(file), 'writes.mjs')
  writeFileSync(main, script)
  const child = spawnSync(process.execPath, [main], { encoding: 'utf8' })
  assert.equal(child.stderr, '')
  assert.equal(child.stdout.trim(), '200000', 'every write committed before the process ended')
  assert.equal(child.status, 0)
})
