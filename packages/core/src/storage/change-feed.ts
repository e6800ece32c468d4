import type { Change, ChangeKind } from '../model.ts'
import type { Store } from './port.ts'

type Listener = (change: Change) => void | Promise<void>

/**
 * Polls the store's change log and tells listeners what changed, so a server sees what the
 * CLI or another instance wrote. A process that falls too far behind resynchronises by
 * announcing a '*' change for every kind.
 */
export class ChangeFeed {
  private seq = 0
  private timer: NodeJS.Timeout | undefined
  private polling: Promise<void> | undefined
  private readonly listeners = new Map<ChangeKind, Listener[]>()
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

  /** Starts from the current end of the log: everything before it is already loaded. */
  async start(): Promise<void> {
    this.seq = await this.store.latestChange()
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

  /** Reads and dispatches whatever changed since the last poll. */
  async poll(): Promise<void> {
    const batch = 1000
    const changes = await this.store.changesSince(this.seq, batch)
    if (changes.length === batch) {
      this.seq = await this.store.latestChange()
      for (const kind of this.listeners.keys()) await this.dispatch({ seq: this.seq, kind, id: '*' })
      return
    }
    for (const change of changes) {
      await this.dispatch(change)
      this.seq = change.seq
    }
  }

  private async dispatch(change: Change): Promise<void> {
    for (const listener of this.listeners.get(change.kind) ?? []) await listener(change)
  }
}
