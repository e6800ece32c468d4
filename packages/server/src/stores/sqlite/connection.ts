import { DatabaseSync } from 'node:sqlite'

/**
 * Opens a connection to the store's database the way every connection to it runs, the
 * store's own and the checkpoint thread's: WAL, and `synchronous = NORMAL`. Under NORMAL a
 * commit writes the WAL without syncing it, and every checkpoint syncs the WAL before it
 * copies and the database file after: a crash of the process loses nothing committed, and a
 * power loss may lose the last commits but corrupts nothing.
 *
 * The checkpoint thread's connection once ran with SQLite's default, FULL, which also synced
 * the WAL after that connection's one commit (the first write of a new WAL, see
 * checkpoint-worker.ts) while the group commit was held back: 27 syncs in 5 s of a signature
 * load against 15 with NORMAL (strace), though the holds were not measurably shorter.
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
