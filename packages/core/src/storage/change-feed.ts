import type { Change, ChangeKind } from '../model.ts'
import type { Store } from './port.ts'

type Listener = (change: Change) => void | Promise<void>

/**
 * Polls the store's change log and tells listeners what changed, so a server sees what the
 * CLI or another instance wrote. A process that falls too far behind resynchronises by
 * announcing a '*' change for every kind.
 *
 * A listener that fails holds nothing else back: the feed goes on past its change, and its kind
 * is announced again ('*') at every poll until a listener run succeeds. One change that cannot
 * be applied (a key sealed with another master key, say) must not keep a disabled client working.
 */
export class ChangeFeed {
  private seq = 0
  private marked = false
  private timer: NodeJS.Timeout | undefined
  private polling: Promise<void> | undefined
  private readonly listeners = new Map<ChangeKind, Listener[]>()
  private readonly failed = new Set<ChangeKind>()
  private readonly store: Store
  private readonly interval: number
  private readonly onError: (error: unknown) => void

  constructor(options: { store: Store; interval: number; onError: (error: unknown) => void }) {
    this.store = options.store
    this.interval = options.interval
    this.onError = options.onError
  }

  on(kind: ChangeKind, listener: Listener): void {
    this.listeners.set(kind, [...(this.listeners.get(kind) ?? []), listener])
  }

  /**
   * Where the feed starts: the current end of the log, read before the caller loads its state,
   * so that a change committed while it loads is announced rather than lost.
   */
  async mark(): Promise<void> {
    this.seq = await this.store.latestChange()
    this.marked = true
  }

  /** Starts polling from the mark (or, without one, from the current end of the log). */
  async start(): Promise<void> {
    if (!this.marked) await this.mark()
    this.timer = setInterval(() => {
      this.polling ??= this.poll()
        .catch(this.onError)
        .finally(() => {
          this.polling = undefined
        })
    }, this.interval)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.polling
  }

  /** The kinds whose last listener run failed, and that are retried at every poll. */
  get failing(): ReadonlySet<ChangeKind> {
    return this.failed
  }

  /** Reads and dispatches whatever changed since the last poll, and retries what failed. */
  async poll(): Promise<void> {
    const batch = 1000
    const changes = await this.store.changesSince(this.seq, batch)
    if (changes.length === batch) {
      this.seq = await this.store.latestChange()
      for (const kind of this.listeners.keys()) await this.dispatch({ seq: this.seq, kind, id: '*' })
      return
    }
    const retry = new Set(this.failed)
    for (const change of changes) {
      this.seq = change.seq
      retry.delete(change.kind)
      await this.dispatch(change)
    }
    for (const kind of retry) await this.dispatch({ seq: this.seq, kind, id: '*' })
  }

  private async dispatch(change: Change): Promise<void> {
    try {
      for (const listener of this.listeners.get(change.kind) ?? []) await listener(change)
      this.failed.delete(change.kind)
    } catch (error) {
      // Told once per spell of failures, not at every retry.
      if (!this.failed.has(change.kind)) this.onError(error)
      this.failed.add(change.kind)
    }
  }
}
