import { type KeyObject, sign } from 'node:crypto'
import type { SigningAlgorithm } from '../model.ts'
import { type JwsKey, jwsKey, jwsSignature, type SignatureProvider } from '../tokens/jws.ts'

/**
 * Signs with node:crypto's asynchronous sign, one job per signature on libuv's thread pool.
 * It needs no threads of its own; `SigningThreads` uses it when a worker is lost.
 */
export class CryptoSignatures implements SignatureProvider {
  private readonly keys = new Map<string, JwsKey>()

  load(kid: string, alg: SigningAlgorithm, key: KeyObject): void {
    this.keys.set(kid, jwsKey(alg, key))
  }

  unload(kid: string): void {
    this.keys.delete(kid)
  }

  sign(kid: string, input: string): Promise<string> {
    const key = this.keys.get(kid)
    if (!key) return Promise.reject(new Error(`signing key ${kid} is not loaded`))
    return new Promise((resolve, reject) => {
      sign(key.digest, Buffer.from(input), key.key, (error, signature) => {
        if (error) return reject(error)
        try {
          resolve(jwsSignature(key, signature))
        } catch (malformed) {
          reject(malformed)
        }
      })
    })
  }

  async close(): Promise<void> {
    this.keys.clear()
  }
}
