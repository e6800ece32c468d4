// The body of the checkpoint thread (see checkpointer.ts). It blocks on the shared memory
// between checkpoints, so it has no event loop work and costs nothing while nothing commits.
import { DatabaseSync } from 'node:sqlite'
import { parentPort, workerData } from 'node:worker_threads'
import { Cell, type FromCheckpointer } from './checkpointer.ts'

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
  const db = new DatabaseSync(file)
  db.exec(`PRAGMA busy_timeout = ${WAIT_MS}`)
  const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
  const restart = db.prepare('PRAGMA wal_checkpoint(RESTART)')
  // A reader elsewhere that keeps the WAL from starting over is waited out at twice the
  // length, not retried after every commit with the writers held back each time.
  let restartBeyond = restartAt
  let seen = Atomics.load(cells, Cell.Commits)
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
    const { log } = passive.get() as unknown as Checkpoint
    if (log < restartBeyond) {
      restartBeyond = restartAt
      continue
    }
    Atomics.store(cells, Cell.Hold, 1)
    try {
      const { busy } = restart.get() as unknown as Checkpoint
      restartBeyond = busy ? log * 2 : restartAt
    } finally {
      Atomics.store(cells, Cell.Hold, 0)
      post({ kind: 'released' })
    }
  }
  db.close()
} catch (error) {
  post({ kind: 'failed', message: error instanceof Error ? error.message : String(error) })
}
