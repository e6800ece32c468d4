import type { MasterKeyCipher } from '../cipher.ts'
import { type Clock, nowSeconds } from '../clock.ts'
import type { SigningAlgorithm, SigningKeyRecord } from '../model.ts'
import type { Store } from '../storage/port.ts'
import { generateSigningKey } from './generate.ts'
import { currentSigner, keyState } from './key-state.ts'

export interface KeyManagerOptions {
  store: Store
  cipher: MasterKeyCipher
  clock: Clock
  algorithm: SigningAlgorithm
  /** Seconds a new key is published before it signs. */
  leadTime: number
}

/** Creates and rotates signing keys in storage; the KeyRing reads what this writes. */
export class KeyManager {
  private readonly options: KeyManagerOptions

  constructor(options: KeyManagerOptions) {
    this.options = options
  }

  /**
   * On start: makes sure a key of the configured algorithm signs now or is about to. A
   * changed algorithm takes effect at once, since waiting would keep signing with the old.
   */
  async ensureSigningKey(): Promise<SigningKeyRecord | undefined> {
    const { store, clock, algorithm } = this.options
    const now = nowSeconds(clock)
    const keys = await store.listSigningKeys()
    const signer = currentSigner(keys, now)
    const pending = keys.some((k) => keyState(k, now) === 'next' && k.alg === algorithm)
    if (signer?.alg === algorithm || (signer && pending)) return undefined
    return this.rotate({ now: true })
  }

  /**
   * Publishes a new key. It signs after the lead time, or at once with `now` (a compromised
   * key); every key that has no successor yet retires when the new one activates.
   */
  async rotate({ now: immediately }: { now: boolean }): Promise<SigningKeyRecord> {
    const { store, clock, cipher, algorithm, leadTime } = this.options
    const now = nowSeconds(clock)
    const activatesAt = immediately ? now : now + leadTime
    const key = await generateSigningKey(algorithm as SigningAlgorithm, cipher, {
      createdAt: now,
      activatesAt,
    })
    const open = (await store.listSigningKeys()).filter(
      (k) => k.retiresAt === null || k.retiresAt > activatesAt,
    )
    await store.insertSigningKey(key)
    if (open.length > 0)
      await store.retireSigningKeys(
        open.map((k) => k.kid),
        activatesAt,
      )
    return key
  }
}
