import type { DatabaseSync, StatementSync } from 'node:sqlite'

interface Pending {
  work: () => unknown
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/**
 * Group commit: the writes queued during one turn of the event loop run in one transaction,
 * so concurrent refreshes and replay checks share a commit instead of paying one each.
 * Each write runs in its own savepoint, so one that fails is undone alone; none is reported
 * done before the commit.
 */
export class GroupCommit {
  private readonly db: DatabaseSync
  private queue: Pending[] = []
  // Prepared once: they run for every write.
  private readonly savepoint: StatementSync
  private readonly release: StatementSync
  private readonly rollbackTo: StatementSync

  constructor(db: DatabaseSync) {
    this.db = db
    this.savepoint = db.prepare('SAVEPOINT one_write')
    this.release = db.prepare('RELEASE one_write')
    this.rollbackTo = db.prepare('ROLLBACK TO one_write')
  }

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush())
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject })
    })
  }

  /** Commits what is queued now, e.g. before the database closes. */
  drain(): void {
    if (this.queue.length > 0) this.flush()
  }

  private flush(): void {
    const batch = this.queue
    if (batch.length === 0) return
    this.queue = []
    const outcomes: { ok: boolean; value: unknown }[] = []
    try {
      this.db.exec('BEGIN IMMEDIATE')
    } catch (error) {
      for (const pending of batch) pending.reject(error)
      return
    }
    for (const pending of batch) {
      this.savepoint.run()
      try {
        outcomes.push({ ok: true, value: pending.work() })
        this.release.run()
      } catch (error) {
        this.rollbackTo.run()
        this.release.run()
        outcomes.push({ ok: false, value: error })
      }
    }
    try {
      this.db.exec('COMMIT')
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      for (const pending of batch) pending.reject(error)
      return
    }
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]!
      if (outcome.ok) pending.resolve(outcome.value)
      else pending.reject(outcome.value)
    })
  }
}
