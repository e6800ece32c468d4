import type { KeyObject } from 'node:crypto'
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads'
import type { SigningAlgorithm } from '../model.ts'
import type { SignatureProvider } from '../tokens/jws.ts'
import { atTurnEnd } from '../turn-end.ts'
import { CryptoSignatures } from './crypto-signatures.ts'

/** What the main thread sends a signing thread. */
export type ToSigningThread =
  | { kind: 'load'; kid: string; alg: SigningAlgorithm; key: KeyObject }
  | { kind: 'unload'; kid: string }
  | { kind: 'sign'; kids: string[]; inputs: string[] }

/** A signature (base64url), or why there is none; answered in the order asked. */
export type SignResult = string | { error: string }

interface Pending {
  kid: string
  input: string
  resolve: (signature: string) => void
  reject: (error: Error) => void
}

/** A thread that dies sooner than this after it started is not replaced (it would die again). */
const MIN_LIFETIME_MS = 1000

/**
 * Signs on worker threads of its own. The signatures asked for in one turn of the event loop
 * (see turn-end.ts) go out as one message, spread so that every thread has about the same
 * backlog, and come back a few at a time. Per token that costs the main thread less than a
 * libuv job each (a job, a wake-up and a callback per signature), and the main thread is
 * what bounds the token endpoint for ES256 and EdDSA. A thread that dies is replaced; what
 * it owed is signed on libuv's pool instead, so no request is lost with it.
 */
export class SigningThreads implements SignatureProvider {
  private readonly keys = new Map<string, { alg: SigningAlgorithm; key: KeyObject }>()
  private readonly fallback = new CryptoSignatures()
  private readonly onError: (error: unknown) => void
  private threads: SigningThread[]
  private batch: Pending[] = []
  private closed = false

  constructor(options: { threads: number; onError: (error: unknown) => void }) {
    if (!Number.isInteger(options.threads) || options.threads < 1)
      throw new RangeError('SigningThreads needs at least one thread')
    this.onError = options.onError
    this.threads = Array.from({ length: options.threads }, () => this.spawn())
  }

  get size(): number {
    return this.threads.length
  }

  load(kid: string, alg: SigningAlgorithm, key: KeyObject): void {
    this.keys.set(kid, { alg, key })
    this.fallback.load(kid, alg, key)
    for (const thread of this.threads) thread.post({ kind: 'load', kid, alg, key })
  }

  unload(kid: string): void {
    this.keys.delete(kid)
    this.fallback.unload(kid)
    for (const thread of this.threads) thread.post({ kind: 'unload', kid })
  }

  sign(kid: string, input: string): Promise<string> {
    if (this.closed) return Promise.reject(closed())
    if (this.threads.length === 0) return this.fallback.sign(kid, input)
    return new Promise((resolve, reject) => {
      if (this.batch.length === 0) atTurnEnd(this.flush)
      this.batch.push({ kid, input, resolve, reject })
    })
  }

  async close(): Promise<void> {
    this.closed = true
    const batch = this.batch
    this.batch = []
    for (const item of batch) item.reject(closed())
    const threads = this.threads
    this.threads = []
    await Promise.all(threads.map((thread) => thread.terminate()))
    await this.fallback.close()
  }

  private readonly flush = (): void => {
    const batch = this.batch
    if (batch.length === 0) return
    this.batch = []
    const threads = this.threads
    if (threads.length === 0) {
      this.signInProcess(batch)
      return
    }
    const shares: Pending[][] = threads.map(() => [])
    for (const item of batch) {
      let least = 0
      for (let i = 1; i < threads.length; i++) {
        if (threads[i]!.backlog + shares[i]!.length < threads[least]!.backlog + shares[least]!.length)
          least = i
      }
      shares[least]!.push(item)
    }
    for (let i = 0; i < threads.length; i++) if (shares[i]!.length > 0) threads[i]!.send(shares[i]!)
  }

  private spawn(): SigningThread {
    const thread = new SigningThread((error, owed) => this.lost(thread, error, owed))
    for (const [kid, { alg, key }] of this.keys) thread.post({ kind: 'load', kid, alg, key })
    return thread
  }

  private lost(thread: SigningThread, error: Error, owed: Pending[]): void {
    if (this.closed) {
      for (const item of owed) item.reject(closed())
      return
    }
    this.onError(error)
    const index = this.threads.indexOf(thread)
    if (index !== -1) {
      if (thread.age >= MIN_LIFETIME_MS) this.threads[index] = this.spawn()
      else this.threads.splice(index, 1)
    }
    this.signInProcess(owed)
  }

  private signInProcess(items: Pending[]): void {
    for (const item of items) this.fallback.sign(item.kid, item.input).then(item.resolve, item.reject)
  }
}

/** One worker and the signatures it owes, in the order it was asked for them. */
class SigningThread {
  private readonly worker: Worker
  private readonly port: MessagePort
  private readonly started = Date.now()
  private owed: Pending[] = []
  private next = 0
  private ended = false

  constructor(onLost: (error: Error, owed: Pending[]) => void) {
    // A channel of its own: a Worker relays each message that comes on its built-in one as an
    // event, after reading process.env.WATCH_REPORT_DEPENDENCIES, which costs the main thread
    // about 2,000 instructions a message (`npm run bench -- --instructions`).
    const { port1, port2 } = new MessageChannel()
    this.worker = new Worker(new URL('./signing-worker.ts', import.meta.url), {
      name: 'gatehouse-signing',
      workerData: { port: port2 },
      transferList: [port2],
    })
    this.port = port1
    this.port.on('message', (results: SignResult[]) => this.receive(results))
    // Idle threads do not keep the process alive; a thread with signatures owed does (the
    // worker, not the port: a port closes with a thread that dies, before its exit is told).
    this.port.unref()
    this.worker.unref()
    let failure: Error | undefined
    this.worker.on('error', (error) => {
      failure = error
    })
    this.worker.on('exit', (code) => {
      if (this.ended) return
      this.ended = true
      this.port.close()
      onLost(failure ?? new Error(`a signing thread exited with code ${code}`), this.takeOwed())
    })
  }

  get backlog(): number {
    return this.owed.length - this.next
  }

  get age(): number {
    return Date.now() - this.started
  }

  post(message: ToSigningThread): void {
    if (!this.ended) this.port.postMessage(message)
  }

  send(items: Pending[]): void {
    if (this.backlog === 0) this.worker.ref()
    for (const item of items) this.owed.push(item)
    this.post({ kind: 'sign', kids: items.map((i) => i.kid), inputs: items.map((i) => i.input) })
  }

  async terminate(): Promise<void> {
    this.ended = true
    const owed = this.takeOwed()
    this.port.close()
    await this.worker.terminate()
    for (const item of owed) item.reject(closed())
  }

  /** What is still owed, handed over: this thread owes nothing after. */
  private takeOwed(): Pending[] {
    const owed = this.owed.slice(this.next)
    this.owed = []
    this.next = 0
    return owed
  }

  private receive(results: SignResult[]): void {
    for (const result of results) {
      const item = this.owed[this.next++]
      if (!item) break
      if (typeof result === 'string') item.resolve(result)
      else item.reject(new Error(result.error))
    }
    if (this.next === this.owed.length) {
      this.owed = []
      this.next = 0
      this.worker.unref()
    }
  }
}

function closed(): Error {
  return new Error('the signing threads are closed')
}
