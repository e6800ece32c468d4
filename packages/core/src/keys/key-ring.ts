import { createPrivateKey } from 'node:crypto'
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose'
import type { MasterKeyCipher } from '../cipher.ts'
import { type Clock, nowSeconds } from '../clock.ts'
import type { SigningKeyRecord } from '../model.ts'
import type { Store } from '../storage/port.ts'
import { JwsSigner, type SignatureProvider } from '../tokens/jws.ts'
import { signingKeyContext } from './generate.ts'
import { currentSigner, isPublished, keyState, neverSigns } from './key-state.ts'

const SLACK = 5

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
  private readonly signatures: SignatureProvider

  constructor(options: {
    store: Store
    cipher: MasterKeyCipher
    clock: Clock
    maxTtl: number
    signatures: SignatureProvider
  }) {
    this.store = options.store
    this.cipher = options.cipher
    this.clock = options.clock
    this.maxTtl = options.maxTtl
    this.signatures = options.signatures
  }

  async reload(): Promise<void> {
    const records = await this.store.listSigningKeys()
    const now = nowSeconds(this.clock)
    // A retired key never signs again, so its private part is not kept once it retires.
    const signing = new Set(records.filter((r) => keyState(r, now) !== 'retired').map((r) => r.kid))
    // Every new key is opened before anything changes: a key this master key cannot open (one
    // sealed with another) fails the reload and leaves the keys that sign now signing.
    const added = records
      .filter((record) => signing.has(record.kid) && !this.signers.has(record.kid))
      .map((record) => ({
        record,
        key: createPrivateKey(this.cipher.decrypt(record.sealedPrivateKey, signingKeyContext(record.kid))),
      }))
    for (const kid of this.signers.keys()) {
      if (signing.has(kid)) continue
      this.signers.delete(kid)
      this.signatures.unload(kid)
    }
    for (const { record, key } of added) {
      this.signatures.load(record.kid, record.alg, key)
      this.signers.set(record.kid, new JwsSigner(record.kid, record.alg, this.signatures))
    }
    this.records = records
    this.verifier = createLocalJWKSet({ keys: records.map((k) => k.publicJwk) } as Parameters<
      typeof createLocalJWKSet
    >[0])
  }

  /**
   * The public keys of every key this server has held, for checking its own tokens' signatures;
   * `couldHaveSigned` then says whether the key that verified one could have signed it.
   */
  verificationKeys(): JWTVerifyGetKey {
    return this.verifier
  }

  /**
   * Whether key `kid` could have signed a token issued at `iat`: it signs from its activation
   * until it retires, and is trusted as long as it is published, until every token it signed
   * has expired. A token from a key past that, or dated outside its time (a key taken out of
   * use after a compromise, say), is not one this server issued. A few seconds' slack: a
   * token's iat is read just after its signer is chosen.
   */
  couldHaveSigned(kid: unknown, iat: unknown): boolean {
    const key = this.records.find((k) => k.kid === kid)
    if (!key || typeof iat !== 'number' || neverSigns(key)) return false
    if (!isPublished(key, nowSeconds(this.clock), this.maxTtl)) return false
    return iat >= key.activatesAt - SLACK && (key.retiresAt === null || iat < key.retiresAt + SLACK)
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
