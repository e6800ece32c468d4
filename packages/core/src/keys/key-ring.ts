import { createPrivateKey } from 'node:crypto'
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose'
import type { MasterKeyCipher } from '../cipher.ts'
import { type Clock, nowSeconds } from '../clock.ts'
import type { SigningKeyRecord } from '../model.ts'
import type { Store } from '../storage/port.ts'
import { JwsSigner } from '../tokens/jws.ts'
import { currentSigner, isPublished } from './key-state.ts'

export interface Jwks {
  keys: Record<string, unknown>[]
}

/**
 * The keys a running server holds in memory: private keys decrypted and imported once, the
 * JWKS document built once per change. Which key signs depends on the time, so the signer is
 * looked up per token from the small in-memory list.
 */
export class KeyRing {
  private records: SigningKeyRecord[] = []
  private verifier: JWTVerifyGetKey = createLocalJWKSet({ keys: [] })
  private readonly signers = new Map<string, JwsSigner>()
  private readonly store: Store
  private readonly cipher: MasterKeyCipher
  private readonly clock: Clock
  private readonly maxTtl: number

  constructor(options: { store: Store; cipher: MasterKeyCipher; clock: Clock; maxTtl: number }) {
    this.store = options.store
    this.cipher = options.cipher
    this.clock = options.clock
    this.maxTtl = options.maxTtl
  }

  async reload(): Promise<void> {
    const records = await this.store.listSigningKeys()
    for (const record of records) {
      if (this.signers.has(record.kid)) continue
      const pem = this.cipher.decrypt(record.sealedPrivateKey, `signing-key:${record.kid}`)
      this.signers.set(record.kid, new JwsSigner(record.kid, record.alg, createPrivateKey(pem)))
    }
    this.records = records
    this.verifier = createLocalJWKSet({ keys: records.map((k) => k.publicJwk) } as Parameters<
      typeof createLocalJWKSet
    >[0])
  }

  /** The public keys of every key this server has held, for checking its own tokens. */
  verificationKeys(): JWTVerifyGetKey {
    return this.verifier
  }

  signer(): JwsSigner | undefined {
    const record = currentSigner(this.records, nowSeconds(this.clock))
    return record && this.signers.get(record.kid)
  }

  jwks(): Jwks {
    const now = nowSeconds(this.clock)
    return { keys: this.records.filter((k) => isPublished(k, now, this.maxTtl)).map((k) => k.publicJwk) }
  }

  list(): readonly SigningKeyRecord[] {
    return this.records
  }
}
