// The body of the checkpoint thread (see checkpointer.ts). It blocks on the shared memory
// between checkpoints, so it has no event loop work and costs nothing while nothing commits.
import { parentPort, workerData } from 'node:worker_threads'
import { Cell, type FromCheckpointer } from './checkpointer.ts'
import { openConnection } from './connection.ts'
import { isSqliteBusy } from './errors.ts'

// A checkpoint runs once `every` commits have landed since the last (see checkpointer.ts), or
// this long after the first of them, whichever comes first.
const AT_MOST_MS = 1_000
// How often the thread looks at the commit count while commits come in. While none do, it
// sleeps until the next one.
const LOOK_MS = 50
// How long a RESTART waits for other connections' readers and writers (including the main
// connection's transaction under way, never a new one) before it gives up for now.
const WAIT_MS = 100

interface Checkpoint {
  busy: number
  log: number
  checkpointed: number
}

const port = parentPort
if (!port) throw new Error('checkpoint-worker.ts runs as a worker thread')
const { file, cells, every, restartAt } = workerData as {
  file: string
  cells: Int32Array
  every: number
  restartAt: number
}
const post = (message: FromCheckpointer) => port.postMessage(message)

try {
  const db = openConnection(file, WAIT_MS)
  const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
  const restart = db.prepare('PRAGMA wal_checkpoint(RESTART)')
  const userVersion = db.prepare('PRAGMA user_version')
  // The first commit after a restart writes the WAL's new header and syncs it. Made here, by
  // rewriting the header's unused user_version as it is, that sync is this thread's rather
  // than the next group commit's on the event loop (80 ms once, beside a checkpoint's syncs).
  // Another process holding the write lock past the wait (a CLI command, say) only means the
  // group commit starts the WAL over this time.
  const startOver = () => {
    try {
      db.exec('BEGIN IMMEDIATE')
    } catch (error) {
      if (isSqliteBusy(error)) return
      throw error
    }
    try {
      const { user_version } = userVersion.get() as { user_version: number }
      db.exec(`PRAGMA user_version = ${Number(user_version)}`)
      db.exec('COMMIT')
    } catch (error) {
      db.exec('ROLLBACK')
      throw error
    }
  }
  // A reader elsewhere that keeps the WAL from starting over is waited out at twice the
  // length, then four times, and so on until the WAL starts over, not retried after every
  // checkpoint with the writers held back each time.
  let restartBeyond = restartAt
  let lastLog = 0
  // Counted from zero, so commits made while this thread was starting are seen too.
  let seen = 0
  let since = 0
  while (Atomics.load(cells, Cell.Stop) === 0) {
    if (Atomics.load(cells, Cell.Commits) === seen) {
      Atomics.wait(cells, Cell.Commits, seen)
      since = performance.now()
    }
    Atomics.wait(cells, Cell.Stop, 0, LOOK_MS)
    const commits = Atomics.load(cells, Cell.Commits)
    const stopping = Atomics.load(cells, Cell.Stop) === 1
    if (!stopping && commits - seen < every && performance.now() - since < AT_MOST_MS) continue
    seen = commits
    since = performance.now()
    const { busy, log, checkpointed } = passive.get() as unknown as Checkpoint
    if (stopping) break
    // All of it copied, so the WAL would start over at the next commit, which would then sync
    // the new header on the event loop. The thread starts it over itself instead, unless a
    // reader elsewhere made the last attempt give up.
    if (log < lastLog) restartBeyond = restartAt
    lastLog = log
    const copied = busy === 0 && log > 0 && checkpointed === log && restartBeyond === restartAt
    if (!copied && log < restartBeyond) continue
    Atomics.store(cells, Cell.Hold, 1)
    try {
      const restarted = (restart.get() as unknown as Checkpoint).busy === 0
      restartBeyond = restarted ? restartAt : Math.max(log, restartAt) * 2
      if (restarted) {
        startOver()
        lastLog = 0
      }
    } finally {
      Atomics.store(cells, Cell.Hold, 0)
      post({ kind: 'released' })
    }
  }
  db.close()
} catch (error) {
  post({ kind: 'failed', message: error instanceof Error ? error.message : String(error) })
}
