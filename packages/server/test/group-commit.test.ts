import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { type RefreshFamilyRecord, StorageUnavailableError } from '@gatehouse/core'
import { GroupCommit, inlineRunner } from '../src/stores/sqlite/group-commit.ts'
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.ts'
import { commitGroup, type Write, Writes } from '../src/stores/sqlite/writes.ts'

function family(familyId: string): RefreshFamilyRecord {
  const now = Math.floor(Date.now() / 1000)
  return {
    familyId,
    secretHash: 's',
    clientId: 'c',
    subject: 'c',
    scopes: [],
    createdAt: now,
    rotatedAt: now,
    expiresAt: now + 60,
    revoked: false,
  }
}

function database(): DatabaseSync {
  // The store's own schema, on a database of our own.
  const store = new SqliteStore(':memory:')
  const db = (store as unknown as { db: DatabaseSync }).db
  db.exec(`INSERT INTO clients (client_id, name, scopes, grants, token_ttl, enabled, is_public, introspect, signature, secrets, created_at, updated_at)
           VALUES ('c', 'c', '[]', '[]', NULL, 1, 0, 0, 0, '[]', 0, 0)`)
  return db
}

const families = (db: DatabaseSync) =>
  (
    db.prepare('SELECT family_id FROM refresh_families ORDER BY family_id').all() as { family_id: string }[]
  ).map((r) => r.family_id)

test('the writes of one turn share a transaction; one that fails is undone alone', async () => {
  const db = database()
  const writes = new GroupCommit(inlineRunner(db))
  let groups = 0
  const commit = db.exec.bind(db)
  db.exec = (sql: string) => {
    if (sql === 'COMMIT') groups++
    return commit(sql)
  }
  const results = await Promise.allSettled([
    writes.run({ op: 'insertRefreshFamily', family: family('a') }),
    writes.run({ op: 'insertRefreshFamily', family: family('a') }),
    writes.run({ op: 'insertRefreshFamily', family: family('b') }),
  ])
  assert.equal(groups, 1)
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  )
  assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE/)
  assert.deepEqual(families(db), ['a', 'b'])
})

test('when SQLite rolls the transaction back, the whole group fails and nothing of it is written', () => {
  const db = database()
  const real = new Writes(db)
  let ranAfter = false
  const writes = {
    run(write: Write) {
      if (write.op === 'revokeRefreshFamily') {
        // What SQLite does by itself on a full disk or an I/O error.
        db.exec('ROLLBACK')
        throw Object.assign(new Error('disk I/O error'), { code: 'ERR_SQLITE_ERROR', errcode: 10 })
      }
      if (write.op === 'purgeExpired') ranAfter = true
      return real.run(write)
    },
  } as Writes
  const now = Math.floor(Date.now() / 1000)
  const outcomes = commitGroup(db, writes, [
    { op: 'insertRefreshFamily', family: family('a') },
    { op: 'revokeRefreshFamily', familyId: 'a' },
    { op: 'purgeExpired', table: 'used_once', now },
  ])
  assert.deepEqual(
    outcomes.map((o) => o.ok),
    [false, false, false],
  )
  assert.deepEqual(outcomes[0], {
    ok: false,
    error: { name: 'Error', message: 'disk I/O error', code: 'ERR_SQLITE_ERROR', errcode: 10 },
  })
  assert.equal(ranAfter, false, 'nothing runs outside the transaction')
  assert.deepEqual(families(db), [])
})

test('the writer thread: writes land in the file, a lost thread fails what it owed as unavailable, and the next write starts another', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-writer-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const store = new SqliteStore(join(dir, 'gatehouse.db'))
  t.after(() => store.close())
  assert.equal(await store.consumeOnce('k1', Math.floor(Date.now() / 1000) + 60), true)
  assert.equal(await store.consumeOnce('k1', Math.floor(Date.now() / 1000) + 60), false, 'seen by the thread')

  const thread = (store as unknown as { writes: { runner: { worker?: { terminate(): Promise<number> } } } })
    .writes.runner
  // Stopped before the group it is about to be sent can be answered.
  const pending = store.consumeOnce('k2', Math.floor(Date.now() / 1000) + 60)
  const stopped = thread.worker!.terminate()
  await assert.rejects(pending, StorageUnavailableError)
  await stopped
  assert.equal(
    await store.consumeOnce('k3', Math.floor(Date.now() / 1000) + 60),
    true,
    'a new thread took over',
  )
})
