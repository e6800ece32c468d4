import { Worker } from 'node:worker_threads'
import type { CommitHooks } from './group-commit.ts'

/** The cells of the memory shared with the checkpoint thread. */
export const Cell = {
  // Bumped by every commit of the main connection; the thread sleeps until it moves.
  Commits: 0,
  // 1 while the thread holds writers back to restart the WAL: the group commit waits.
  Hold: 1,
  // 1 once the store closes: the thread finishes what it is doing and exits.
  Stop: 2,
} as const

export interface CheckpointerOptions {
  // Commits between checkpoints (or a second after the first of them, whichever is sooner). A
  // checkpoint copies each page changed since the last once and syncs both files: one every few
  // commits would copy the same hot pages and sync over and over (one every 20 ms cost 6 µs of
  // CPU per refresh). 250 commits is about as often as SQLite's own, every 1,000 WAL pages.
  every?: number
  // The WAL length in frames (pages) at which the thread holds writers back to start the WAL
  // over; below it, checkpoints run beside the writes.
  restartAt?: number
}

export type FromCheckpointer = { kind: 'released' } | { kind: 'failed'; message: string }

/**
 * Checkpoints a WAL-mode database on a thread of its own connection. Left to itself, SQLite
 * checkpoints inside the commit that takes the WAL past 1,000 pages: that commit copies the
 * pages into the database file and syncs both files while the event loop waits, which under
 * a refresh or signature load was a stall of up to 24 ms every few hundred commits.
 *
 * The thread runs a PASSIVE checkpoint every few hundred commits, beside the writes. Under a
 * steady write load that never quite catches up (a commit lands while it copies), so once the
 * WAL is `restartAt` pages long the thread holds the group commit back for one RESTART
 * checkpoint: the file stays bounded. When a checkpoint did copy everything, it holds the
 * group commit back the same way, briefly. Either way the thread then makes the first write
 * of the new WAL itself, because that write syncs the WAL's new header, and made by a group
 * commit that sync stalled the event loop (80 ms once, beside a checkpoint's own syncs).
 *
 * If the thread fails, the connection goes back to SQLite's own checkpoints.
 */
export class Checkpointer implements CommitHooks {
  private readonly cells = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT))
  private readonly worker: Worker
  private readonly exited: Promise<void>
  private closed = false
  // True while a group commit waits for `released`: the thread is referenced meanwhile.
  private waited = false

  constructor(
    file: string,
    handlers: { released: () => void; failed: (reason: string) => void },
    options: CheckpointerOptions = {},
  ) {
    this.worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), {
      name: 'gatehouse-checkpoints',
      workerData: {
        file,
        cells: this.cells,
        every: options.every ?? 250,
        restartAt: options.restartAt ?? 4000,
      },
    })
    let failed = false
    const fail = (reason: string) => {
      if (failed || this.closed) return
      failed = true
      Atomics.store(this.cells, Cell.Hold, 0)
      this.stopWaiting()
      handlers.failed(reason)
      handlers.released()
    }
    this.worker.on('message', (message: FromCheckpointer) => {
      if (message.kind === 'released') {
        this.stopWaiting()
        handlers.released()
      } else fail(message.message)
    })
    this.worker.on('error', (error) => fail(error.message))
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        fail(`the checkpoint thread exited (code ${code})`)
        resolve()
      }),
    )
    // A server with nothing else to do may exit: the database is consistent between checkpoints.
    // After the listeners: a 'message' listener added to an unreferenced worker refers it again.
    this.worker.unref()
  }

  /** True while the thread holds writers back; the thread reports `released` after. */
  holding(): boolean {
    if (Atomics.load(this.cells, Cell.Hold) === 0) return false
    // Writes now wait for the thread's message. Unreferenced, the thread would let a process
    // with nothing else to do exit before they commit, and their promises would never settle.
    if (!this.waited && !this.closed) {
      this.waited = true
      this.worker.ref()
    }
    return true
  }

  private stopWaiting(): void {
    if (!this.waited) return
    this.waited = false
    if (!this.closed) this.worker.unref()
  }

  committed(): void {
    Atomics.add(this.cells, Cell.Commits, 1)
    Atomics.notify(this.cells, Cell.Commits)
  }

  /** Waits for the thread to finish its checkpoint and close its connection. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // Unreferenced, the thread would not keep the process alive until it has closed.
    this.worker.ref()
    Atomics.store(this.cells, Cell.Stop, 1)
    Atomics.notify(this.cells, Cell.Commits)
    Atomics.notify(this.cells, Cell.Stop)
    await this.exited
  }
}
