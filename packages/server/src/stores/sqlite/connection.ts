import { DatabaseSync } from 'node:sqlite'
import { isSqliteBusy } from './errors.ts'

/**
 * Opens a connection to the store's database the way every connection to it runs, the
 * store's own and the checkpoint thread's: WAL, and `synchronous = NORMAL`. Under NORMAL a
 * commit writes the WAL without syncing it, and every checkpoint syncs the WAL before it
 * copies and the database file after: a crash of the process loses nothing committed, and a
 * power loss may lose the last commits but corrupts nothing.
 *
 * Both open here so that they cannot drift apart: the thread's once ran with SQLite's
 * default, FULL, which synced the WAL again after the one commit the thread makes (the first
 * write of a new WAL, see checkpoint-worker.ts) while the group commit waited for it.
 */
export function openConnection(file: string, busyTimeoutMs: number): DatabaseSync {
  const db = new DatabaseSync(file)
  try {
    // busy_timeout first: switching to WAL takes a lock that another process may hold.
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`)
    useWal(db, busyTimeoutMs)
    db.exec('PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;')
  } catch (error) {
    db.close()
    throw error
  }
  return db
}

/**
 * Switches a new database to WAL. That needs the database's exclusive lock, taken from the
 * shared lock its read of the header holds; when two connections open a new file at once, each
 * holds a shared lock the other waits on, and SQLite answers one of them SQLITE_BUSY at once
 * rather than let both wait forever. That one tries again once the other has switched.
 */
function useWal(db: DatabaseSync, timeoutMs: number): void {
  const until = Date.now() + timeoutMs
  for (;;) {
    try {
      db.exec('PRAGMA journal_mode = WAL')
      return
    } catch (error) {
      if (!isSqliteBusy(error) || Date.now() >= until) throw error
      // Opening is synchronous, so the pause is too; it comes only at start-up, against a rival.
      Atomics.wait(PAUSE, 0, 0, 5)
    }
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4))
