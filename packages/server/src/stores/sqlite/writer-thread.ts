import { Worker } from 'node:worker_threads'
import { StorageUnavailableError } from '@gatehouse/core'
import type { GroupRunner } from './group-commit.ts'
import type { Outcome, Write } from './writes.ts'

/**
 * What the main thread sends the writer, and what it answers: JSON text, because one string
 * crosses threads for a fraction of what a structured clone of a group's objects costs.
 */
export interface ToWriter {
  id: number
  /** Write[] */
  group: string
}
export interface FromWriter {
  id: number
  /** Outcome[] */
  outcomes: string
}

/**
 * The token path's writes (refresh rotations, replay checks) committed on a thread of their
 * own, on a connection of its own to the same file: node:sqlite is synchronous, and a
 * commit's B-tree and WAL work would otherwise run on the thread that serves every request.
 * WAL lets the main connection go on reading meanwhile; what a group wrote is visible to it
 * once the group's promise settles. Started with the first write; a thread that stops fails
 * what it had not answered as unavailable storage (503), and the next write starts another.
 */
export class WriterThread implements GroupRunner {
  private readonly file: string
  private worker: Worker | undefined
  private readonly waiting = new Map<
    number,
    { resolve: (outcomes: Outcome[]) => void; reject: (e: Error) => void }
  >()
  private next = 1
  private closed = false

  constructor(file: string) {
    this.file = file
  }

  commit(group: Write[]): Promise<Outcome[]> {
    if (this.closed) return Promise.reject(new StorageUnavailableError('the SQLite store is closed'))
    const worker = this.started()
    const id = this.next++
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) worker.ref()
      this.waiting.set(id, { resolve, reject })
      worker.postMessage({ id, group: JSON.stringify(group) } satisfies ToWriter)
    })
  }

  async close(): Promise<void> {
    this.closed = true
    const worker = this.worker
    this.worker = undefined
    if (worker) await worker.terminate()
  }

  private started(): Worker {
    if (this.worker) return this.worker
    const worker = new Worker(new URL('./writer-worker.ts', import.meta.url), {
      name: 'gatehouse-sqlite-writer',
      workerData: { file: this.file },
    })
    worker.unref()
    worker.on('message', ({ id, outcomes }: FromWriter) => {
      const waiter = this.waiting.get(id)
      if (!waiter) return
      this.waiting.delete(id)
      if (this.waiting.size === 0) worker.unref()
      waiter.resolve(JSON.parse(outcomes) as Outcome[])
    })
    let failure: Error | undefined
    worker.on('error', (error) => {
      failure = error
    })
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined
      const lost = [...this.waiting.values()]
      this.waiting.clear()
      for (const waiter of lost) {
        waiter.reject(new StorageUnavailableError('the SQLite writer stopped', { cause: failure }))
      }
    })
    this.worker = worker
    return worker
  }
}
