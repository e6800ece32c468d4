import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { atTurnEnd } from '@gatehouse/core'

/** How a group commit defers to a checkpoint thread (see checkpointer.ts). */
export interface CommitHooks {
  // True while commits must wait; `resume` is called once they may go on.
  holding(): boolean
  committed(): void
}

interface Pending {
  work: () => unknown
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/**
 * Group commit: the writes queued during one turn of the event loop (see core's turn-end.ts)
 * run in one transaction, so concurrent refreshes and replay checks share a commit instead of
 * paying one each. None is reported done before the commit.
 *
 * Each write changes the database with at most one statement, so one that fails is undone
 * by SQLite alone (a failed statement leaves the transaction as it was) and the others
 * stand. An error that makes SQLite roll the whole transaction back fails the whole group,
 * and nothing of it is written.
 *
 * While a checkpoint thread restarts the WAL, writes queue here and commit together after.
 */
export class GroupCommit {
  private readonly db: DatabaseSync
  private readonly hooks: CommitHooks | undefined
  private queue: Pending[] = []
  private readonly begin: StatementSync
  private readonly end: StatementSync

  constructor(db: DatabaseSync, hooks?: CommitHooks) {
    this.db = db
    this.hooks = hooks
    this.begin = db.prepare('BEGIN IMMEDIATE')
    this.end = db.prepare('COMMIT')
  }

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queue.length === 0) atTurnEnd(this.flush)
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject })
    })
  }

  /** Commits what is queued now, e.g. before the database closes. */
  drain(): void {
    if (this.queue.length > 0) this.commit()
  }

  /** Commits what queued while the hooks held commits back. */
  resume(): void {
    this.flush()
  }

  private readonly flush = (): void => {
    if (this.queue.length === 0 || this.hooks?.holding()) return
    this.commit()
  }

  private commit(): void {
    const batch = this.queue
    this.queue = []
    const outcomes: { ok: boolean; value: unknown }[] = []
    try {
      this.begin.run()
    } catch (error) {
      for (const pending of batch) pending.reject(error)
      return
    }
    for (const pending of batch) {
      try {
        outcomes.push({ ok: true, value: pending.work() })
      } catch (error) {
        outcomes.push({ ok: false, value: error })
        if (!this.db.isTransaction) {
          // SQLite rolled the transaction back: what ran before is undone, and what would
          // run next must not run outside a transaction.
          for (const other of batch) other.reject(error)
          return
        }
      }
    }
    try {
      this.end.run()
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      for (const pending of batch) pending.reject(error)
      return
    }
    this.hooks?.committed()
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]!
      if (outcome.ok) pending.resolve(outcome.value)
      else pending.reject(outcome.value)
    })
  }
}
