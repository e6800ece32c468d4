import type { DatabaseSync } from 'node:sqlite'
import { commitGroup, type Outcome, toError, type Write, type WriteResult, Writes } from './writes.ts'

/** Where a group of writes is committed: on this thread, or on the writer thread. */
export interface GroupRunner {
  commit(group: Write[]): Outcome[] | Promise<Outcome[]>
  close(): Promise<void>
}

/** Commits on the calling thread's own connection (an in-memory database has no other). */
export function inlineRunner(db: DatabaseSync): GroupRunner {
  const writes = new Writes(db)
  return { commit: (group) => commitGroup(db, writes, group), close: async () => {} }
}

interface Pending {
  write: Write
  resolve: (value: WriteResult) => void
  reject: (error: unknown) => void
}

/**
 * Group commit: the writes queued during one turn of the event loop are committed together,
 * so concurrent refreshes and replay checks share a transaction instead of paying one each.
 * A write's promise settles when its group has committed (see `commitGroup`).
 */
export class GroupCommit {
  private readonly runner: GroupRunner
  private queue: Pending[] = []
  private readonly inFlight = new Set<Promise<void>>()

  constructor(runner: GroupRunner) {
    this.runner = runner
  }

  run(write: Write): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(this.flush)
      this.queue.push({ write, resolve, reject })
    })
  }

  /** Commits what is queued, waits for every group to settle, then closes the runner. */
  async close(): Promise<void> {
    this.flush()
    await Promise.all(this.inFlight)
    await this.runner.close()
  }

  private readonly flush = (): void => {
    const batch = this.queue
    if (batch.length === 0) return
    this.queue = []
    let outcomes: Outcome[] | Promise<Outcome[]>
    try {
      outcomes = this.runner.commit(batch.map((pending) => pending.write))
    } catch (error) {
      for (const pending of batch) pending.reject(error)
      return
    }
    if (Array.isArray(outcomes)) {
      settle(batch, outcomes)
      return
    }
    const done = outcomes.then(
      (result) => settle(batch, result),
      (error: unknown) => {
        for (const pending of batch) pending.reject(error)
      },
    )
    this.inFlight.add(done)
    void done.finally(() => this.inFlight.delete(done))
  }
}

function settle(batch: Pending[], outcomes: Outcome[]): void {
  batch.forEach((pending, i) => {
    const outcome = outcomes[i]
    if (outcome?.ok) pending.resolve(outcome.value)
    else pending.reject(outcome ? toError(outcome.error) : new Error('no outcome for a write'))
  })
}
