import type { KeyObject } from 'node:crypto'
import type { SigningAlgorithm } from '../model.ts'
import type { SignatureProvider } from '../tokens/jws.ts'
import { CryptoSignatures } from './crypto-signatures.ts'
import { SigningThreads } from './signing-threads.ts'

/**
 * Sends each key's signatures where they cost least, by algorithm. ES256 and EdDSA sign on
 * the signing threads: their signatures are cheap, so a libuv job per signature (a wake-up
 * and a callback on the main thread) costs as much as the signature, and batching wins.
 * RS256 signs on libuv's pool: a 2048-bit signature is slow enough that the job costs little
 * beside it, and the pool's one shared queue keeps every thread busy, where shares pushed to
 * threads can leave one idle while another has a backlog (measured both ways; bench/HISTORY.md).
 * The threads start with the first key that needs them.
 */
export class SignatureRouter implements SignatureProvider {
  private readonly inProcess = new CryptoSignatures()
  private threads: SigningThreads | undefined
  private readonly threadCount: number
  private readonly onError: (error: unknown) => void
  private readonly routes = new Map<string, SignatureProvider>()

  constructor(options: { threads: number; onError: (error: unknown) => void }) {
    this.threadCount = options.threads
    this.onError = options.onError
  }

  load(kid: string, alg: SigningAlgorithm, key: KeyObject): void {
    const provider = alg === 'RS256' || this.threadCount === 0 ? this.inProcess : this.signingThreads()
    provider.load(kid, alg, key)
    this.routes.set(kid, provider)
  }

  unload(kid: string): void {
    this.routes.get(kid)?.unload(kid)
    this.routes.delete(kid)
  }

  sign(kid: string, input: string): Promise<string> {
    const provider = this.routes.get(kid)
    if (!provider) return Promise.reject(new Error(`signing key ${kid} is not loaded`))
    return provider.sign(kid, input)
  }

  async close(): Promise<void> {
    this.routes.clear()
    await Promise.all([this.inProcess.close(), this.threads?.close()])
  }

  private signingThreads(): SigningThreads {
    this.threads ??= new SigningThreads({ threads: this.threadCount, onError: this.onError })
    return this.threads
  }
}
