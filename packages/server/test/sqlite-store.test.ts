import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { type TestContext, test } from 'node:test'
import { hashRefreshSecret, RefreshTokenService, signatureReplayKey, systemClock } from '@gatehouse/core'
import { storeContract } from '@gatehouse/core/testing'
import { migrations } from '../src/stores/sqlite/migrations.ts'
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.ts'
import { atOnce } from './at-once.ts'

for (const checkpointThread of [false, true]) {
  storeContract(checkpointThread ? 'sqlite, checkpoints on a thread' : 'sqlite', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-sqlite-'))
    return {
      store: new SqliteStore(join(dir, 'gatehouse.db'), { checkpointThread }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    }
  })
}

/** A fresh store, and a connection of its own to look into its tables with. */
async function storeAndDb(t: TestContext, prefix: string): Promise<{ store: SqliteStore; db: DatabaseSync }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'gatehouse.db')
  const store = new SqliteStore(file)
  t.after(() => store.close())
  const db = new DatabaseSync(file)
  t.after(() => db.close())
  return { store, db }
}

/** Client `c`, with refresh tokens allowed, written as a row of the schema since its start. */
function insertClientRow(db: DatabaseSync): void {
  db.prepare(
    `INSERT INTO clients (client_id, name, scopes, grants, token_ttl, enabled, is_public, introspect, signature, secrets, created_at, updated_at)
     VALUES ('c', 'c', '["s"]', '["client_credentials","refresh_token"]', NULL, 1, 0, 0, 0, '[]', 0, 0)`,
  ).run()
}

test('a purge of expired replay keys takes at most 200 at a time', async (t) => {
  const { store, db } = await storeAndDb(t, 'gatehouse-purge-')
  const past = Math.floor(Date.now() / 1000) - 10
  db.exec('BEGIN')
  for (let i = 0; i < 1000; i++) db.prepare('INSERT INTO used_once VALUES (?, ?)').run(`old:${i}`, past)
  db.exec('COMMIT')
  // Every write purges now; one purge must leave 800 of the 1,000 expired keys.
  t.mock.method(Math, 'random', () => 0)
  assert.equal(await store.consumeOnce('fresh', past + 600), true)
  const left = () =>
    (db.prepare('SELECT count(*) AS n FROM used_once WHERE expires_at <= ?').get(past) as { n: number }).n
  assert.equal(left(), 800)
  for (let i = 0; i < 4; i++) await store.consumeOnce(`fresh:${i}`, past + 600)
  assert.equal(left(), 0)
})

test('the purge sweep finds expired replay keys wherever they lie, and comes round again', async (t) => {
  const { store, db } = await storeAndDb(t, 'gatehouse-sweep-')
  const now = Math.floor(Date.now() / 1000)
  const insert = db.prepare('INSERT INTO used_once VALUES (?, ?)')
  // The table is walked in key order, and the keys sort as they were written.
  db.exec('BEGIN')
  for (let i = 0; i < 300; i++) insert.run(`a-live:${i}`, now + 600)
  for (let i = 0; i < 300; i++) insert.run(`b-old:${i}`, now - 10)
  for (let i = 0; i < 300; i++) insert.run(`c-live:${i}`, now + 600)
  db.exec('COMMIT')
  const count = (where: string) =>
    (db.prepare(`SELECT count(*) AS n FROM used_once WHERE ${where}`).get() as { n: number }).n
  t.mock.method(Math, 'random', () => 0)
  let fresh = 0
  const writes = async (n: number) => {
    for (let i = 0; i < n; i++) assert.equal(await store.consumeOnce(`d-fresh:${fresh++}`, now + 600), true)
  }
  // 200 rows a purge: the expired keys, rows 301 to 600, are half gone after the second and
  // all after the third.
  await writes(2)
  assert.equal(count(`key LIKE 'b-old:%'`), 200)
  await writes(1)
  assert.equal(count(`key LIKE 'b-old:%'`), 0)
  assert.equal(count(`key LIKE '_-live:%'`), 600, 'live keys stay')
  // Keys behind the sweep that expire later are found on its next round.
  db.prepare(`UPDATE used_once SET expires_at = ? WHERE key LIKE 'a-live:%'`).run(now - 1)
  await writes(8)
  assert.equal(count(`key LIKE 'a-live:%'`), 0)
  assert.equal(count(`key LIKE 'c-live:%'`), 300)
  assert.equal(count(`key LIKE 'd-fresh:%'`), fresh)
})

test('refresh families that expire are swept out, also when none is ever rotated', async (t) => {
  const { store, db } = await storeAndDb(t, 'gatehouse-sweep-')
  const now = Math.floor(Date.now() / 1000)
  insertClientRow(db)
  const family = (familyId: string, expiresAt: number) => ({
    familyId,
    secretHash: hashRefreshSecret(familyId),
    clientId: 'c',
    subject: 'c',
    scopes: ['s'],
    createdAt: now - 100,
    rotatedAt: now - 100,
    expiresAt,
    revoked: false,
  })
  // No purge while the table fills; the sweep walks the family id, which sorts as written here.
  const random = t.mock.method(Math, 'random', () => 1)
  for (let i = 0; i < 150; i++) await store.insertRefreshFamily(family(`a-old-${i}`, now - 1))
  for (let i = 0; i < 150; i++) await store.insertRefreshFamily(family(`b-live-${i}`, now + 3600))
  const count = (prefix: string) =>
    (
      db.prepare(`SELECT count(*) AS n FROM refresh_families WHERE family_id LIKE ?`).get(`${prefix}%`) as {
        n: number
      }
    ).n
  random.mock.mockImplementation(() => 0)
  await store.insertRefreshFamily(family('c-new-0', now + 3600))
  assert.equal(count('a-old-'), 0, 'expired families are purged by starting new ones')
  assert.equal(count('b-live-'), 150)
})

test('a store rotates families it has not seen, and never trusts what it remembers of one for more than its facts', async (t) => {
  const { store: a, db } = await storeAndDb(t, 'gatehouse-families-')
  const b = new SqliteStore(db.location()!)
  t.after(() => b.close())
  insertClientRow(db)
  const now = Math.floor(Date.now() / 1000)
  const family = (familyId: string, secretHash: string) => ({
    familyId,
    secretHash,
    clientId: 'c',
    subject: `subject-of-${familyId}`,
    scopes: ['s', 't'],
    createdAt: now - 100,
    rotatedAt: now - 100,
    expiresAt: now + 3600,
    revoked: false,
  })
  const next = (secretHash: string) => ({ secretHash, rotatedAt: now, expiresAt: now + 7200 })
  const f = family('f', 'f1')
  await a.insertRefreshFamily(f)
  // b has never seen f: its facts come from the row, the first time and the next.
  assert.deepEqual(await b.rotateRefreshFamily('f', 'f1', 'c', next('f2'), now), {
    outcome: 'rotated',
    family: { ...f, ...next('f2') },
  })
  assert.deepEqual(await b.rotateRefreshFamily('f', 'f2', 'c', next('f3'), now), {
    outcome: 'rotated',
    family: { ...f, ...next('f3') },
  })
  // a remembers f from its start, but its secret has moved on elsewhere: f1 is a spent one.
  assert.equal((await a.rotateRefreshFamily('f', 'f1', 'c', next('x'), now)).outcome, 'reused')
  assert.equal((await a.getRefreshFamily('f'))?.revoked, true)
  // Revoked elsewhere, or gone with its client: no rotation, whatever a remembers.
  await a.insertRefreshFamily(family('g', 'g1'))
  await b.revokeRefreshFamily('g')
  assert.equal((await a.rotateRefreshFamily('g', 'g1', 'c', next('g2'), now)).outcome, 'invalid')
  await a.insertRefreshFamily(family('h', 'h1'))
  assert.equal((await a.rotateRefreshFamily('h', 'h1', 'someone-else', next('h2'), now)).outcome, 'invalid')
  assert.equal(await b.deleteClient('c'), true)
  assert.equal((await a.rotateRefreshFamily('h', 'h1', 'c', next('h2'), now)).outcome, 'invalid')
})

/** A database at the schema version before the first migration that contains `marker`. */
function databaseBefore(file: string, marker: string): DatabaseSync {
  const old = new DatabaseSync(file)
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT')
  const before = migrations.findIndex((m) => m.includes(marker))
  assert.ok(before > 0, `no migration contains ${marker}`)
  for (let version = 1; version <= before; version++) {
    old.exec(migrations[version - 1]!)
    old.prepare('INSERT INTO schema_migrations VALUES (?, 0)').run(version)
  }
  return old
}

test('upgrading a database with signature replay keys of the old layout keeps them single-use', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-migrate-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'gatehouse.db')
  const old = databaseBefore(file, 'signatureReplayKey')
  const live = Math.floor(Date.now() / 1000) + 300
  const signature = 'C0FFEE00112233445566778899AABBCC'
  // Client ids that end in digits or hold a colon, times in seconds and in milliseconds.
  const requests = [
    { clientId: 'openapi', time: '1733390000123' },
    { clientId: 'client-42', time: '1733390000' },
    { clientId: 'a:b:7', time: '1733390000999' },
  ]
  const insert = old.prepare('INSERT INTO used_once VALUES (?, ?)')
  for (const r of requests) insert.run(`signature:${r.clientId}:${r.time}:${signature}`, live)
  insert.run('assertion:openapi:jti-1', live)
  old.close()

  const store = new SqliteStore(file)
  t.after(() => store.close())
  for (const r of requests) {
    assert.equal(
      await store.consumeOnce(signatureReplayKey(r.clientId, r.time, signature), live),
      false,
      `${r.clientId} at ${r.time} was used before the upgrade`,
    )
  }
  assert.equal(
    await store.consumeOnce('assertion:openapi:jti-1', live),
    false,
    'other keys are left as they were',
  )
  assert.equal(await store.consumeOnce(signatureReplayKey('openapi', '1733390000124', signature), live), true)
})

test('upgrading a database from before refresh families keeps its live refresh tokens working', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-migrate-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'gatehouse.db')
  const old = databaseBefore(file, 'CREATE TABLE refresh_families')
  const now = Math.floor(Date.now() / 1000)
  insertClientRow(old)
  const tokens = {
    live: 'L'.repeat(43),
    spent: 'S'.repeat(43),
    revoked: 'R'.repeat(43),
    expired: 'E'.repeat(43),
  }
  const insert = old.prepare('INSERT INTO refresh_tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
  const row = (token: string, spentAt: number | null, revoked: number, expiresAt: number) =>
    insert.run(
      hashRefreshSecret(token),
      `fam-${token[0]}`,
      'c',
      'c',
      '["s"]',
      now - 10,
      expiresAt,
      spentAt,
      revoked,
    )
  row(tokens.live, null, 0, now + 3600)
  row(tokens.spent, now - 5, 0, now + 3600)
  row(tokens.revoked, null, 1, now + 3600)
  row(tokens.expired, null, 0, now - 1)
  old.close()

  const store = new SqliteStore(file)
  t.after(() => store.close())
  const service = new RefreshTokenService({
    store,
    clock: systemClock,
    ttl: 3600,
    accessTokenMaxTtl: 600,
    familiesPerClient: 1000,
  })
  for (const dead of [tokens.spent, tokens.revoked, tokens.expired]) {
    assert.equal(await service.ownerOf(dead), undefined, 'only live tokens are carried over')
  }
  assert.equal(await service.ownerOf(tokens.live), 'c')
  const rotated = await service.rotate(tokens.live, 'c')
  assert.ok(rotated, 'a live token from before the upgrade still rotates')
  assert.deepEqual(rotated.family.scopes, ['s'])
  assert.ok(await service.rotate(rotated.next, 'c'), 'and its successor too')
  assert.equal(await service.rotate(tokens.live, 'c'), undefined, 'while the spent one is refused')
})

test('connections that open a new database at the same moment all find it migrated', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-open-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const module = new URL('../src/stores/sqlite/sqlite-store.ts', import.meta.url)
  for (let round = 0; round < 5; round++) {
    const file = join(dir, `round-${round}.db`)
    const opened = await atOnce(module, "await new mod.SqliteStore(data).close(); return 'opened'", file, 4)
    assert.deepEqual(opened, Array(4).fill({ value: 'opened' }), `round ${round}`)
    const db = new DatabaseSync(file)
    const { v } = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }
    db.close()
    assert.equal(v, migrations.length)
  }
})

test('a new database and its WAL are readable by their owner only', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-mode-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'data', 'gatehouse.db')
  const store = new SqliteStore(file)
  t.after(() => store.close())
  await store.consumeOnce('mode', Math.floor(Date.now() / 1000) + 60)
  for (const path of [file, `${file}-wal`, `${file}-shm`])
    assert.equal(statSync(path).mode & 0o777, 0o600, path)
  assert.equal(statSync(join(dir, 'data')).mode & 0o777, 0o700)
})

test('a file that is not a database is refused with what SQLite found', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-corrupt-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'gatehouse.db')
  await writeFile(file, 'not a database, whatever it was'.repeat(200))
  assert.throws(() => new SqliteStore(file), /cannot open the SQLite database at .*: file is not a database/)
})
