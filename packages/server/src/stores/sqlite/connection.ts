import { DatabaseSync } from 'node:sqlite'

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
    db.exec(
      `PRAGMA busy_timeout = ${busyTimeoutMs}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;`,
    )
  } catch (error) {
    db.close()
    throw error
  }
  return db
}
