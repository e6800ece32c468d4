import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { openConnection } from '../src/stores/sqlite/connection.ts'

test('every connection to the store runs in WAL mode with synchronous = NORMAL', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-connection-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'gatehouse.db')
  // The store's connection and then the checkpoint thread's, with their own waits.
  for (const wait of [5000, 100]) {
    const db = openConnection(file, wait)
    const pragma = (name: string) => Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0]
    try {
      assert.equal(pragma('journal_mode'), 'wal')
      // 1 is NORMAL; SQLite's default is 2, FULL.
      assert.equal(pragma('synchronous'), 1)
      assert.equal(pragma('busy_timeout'), wait)
      assert.equal(pragma('foreign_keys'), 1)
    } finally {
      db.close()
    }
  }
})
