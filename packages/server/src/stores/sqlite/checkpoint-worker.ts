// The body of the checkpoint thread (see checkpointer.ts). It blocks on the shared memory
// between checkpoints, so it has no event loop work and costs nothing while nothing commits.
import { DatabaseSync } from 'node:sqlite'
import { parentPort, workerData } from 'node:worker_threads'
import { Cell, type FromCheckpointer } from './checkpointer.ts'

// Commits that land this soon after the one that woke the thread share its checkpoint.
const GATHER_MS = 20
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
const { file, cells, restartAt } = workerData as { file: string; cells: Int32Array; restartAt: number }
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
  while (Atomics.load(cells, Cell.Stop) === 0) {
    Atomics.wait(cells, Cell.Commits, seen)
    Atomics.wait(cells, Cell.Stop, 0, GATHER_MS)
    seen = Atomics.load(cells, Cell.Commits)
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
