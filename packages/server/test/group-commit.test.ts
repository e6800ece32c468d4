import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { GroupCommit } from '../src/stores/sqlite/group-commit.ts'

function database(): DatabaseSync {
  const db = new DatabaseSync(':memory:')
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY) STRICT')
  return db
}

const keys = (db: DatabaseSync) =>
  (db.prepare('SELECT k FROM t ORDER BY k').all() as { k: string }[]).map((r) => r.k)

test('the writes of one turn share a transaction; one that fails is undone alone', async () => {
  const db = database()
  const writes = new GroupCommit(db)
  const insert = db.prepare('INSERT INTO t (k) VALUES (?)')
  let transactions = 0
  const results = await Promise.allSettled([
    writes.run(() => {
      if (db.isTransaction) transactions++
      return insert.run('a').changes
    }),
    writes.run(() => insert.run('a').changes),
    writes.run(() => insert.run('b').changes),
  ])
  assert.equal(transactions, 1)
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  )
  assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE/)
  assert.deepEqual(keys(db), ['a', 'b'])
  assert.equal(db.isTransaction, false, 'committed')
})

test('when SQLite rolls the transaction back, the whole group fails and nothing of it is written', async () => {
  const db = database()
  const writes = new GroupCommit(db)
  const insert = db.prepare('INSERT INTO t (k) VALUES (?)')
  let ranAfter = false
  const results = await Promise.allSettled([
    writes.run(() => insert.run('a')),
    writes.run(() => {
      // What SQLite does by itself on a full disk or an I/O error.
      db.exec('ROLLBACK')
      throw new Error('disk I/O error')
    }),
    writes.run(() => {
      ranAfter = true
      return insert.run('c')
    }),
  ])
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected', 'rejected'],
  )
  assert.equal(ranAfter, false, 'nothing runs outside the transaction')
  assert.deepEqual(keys(db), [])
})
