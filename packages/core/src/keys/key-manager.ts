import type { MasterKeyCipher } from '../cipher.ts'
import { type Clock, nowSeconds } from '../clock.ts'
import { ConfigError } from '../config/schema.ts'
import type { SigningAlgorithm, SigningKeyRecord } from '../model.ts'
import type { Store } from '../storage/port.ts'
import { generateSigningKey, signingKeyContext } from './generate.ts'
import { currentSigner, keyState, neverSigns } from './key-state.ts'

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
   * Throws a MasterKeyMismatchError when the master key does not open the newest stored signing
   * key. A process holding another master key would seal new keys that no server sharing the
   * store can open, and one `keys rotate --now` would leave them nothing to sign with.
   */
  async checkMasterKey(): Promise<void> {
    const { store, cipher } = this.options
    const newest = newestKey(await store.listSigningKeys())
    if (!newest) return
    try {
      cipher.decrypt(newest.sealedPrivateKey, signingKeyContext(newest.kid))
    } catch {
      throw new MasterKeyMismatchError(
        'the master key does not open the signing keys in this storage: another master key sealed them',
      )
    }
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
   * Scheduled rotation: when the newest key is `period` seconds old and no successor is
   * waiting, publish one (it signs after the lead time). Of several instances sharing the
   * store, only the first to claim the newest key rotates it.
   */
  async rotateIfDue(period: number): Promise<SigningKeyRecord | undefined> {
    const { store, clock } = this.options
    const now = nowSeconds(clock)
    const keys = await store.listSigningKeys()
    if (keys.some((k) => keyState(k, now) === 'next')) return undefined
    const newest = newestKey(keys.filter((k) => !neverSigns(k)))
    if (newest && now - newest.activatesAt < period) return undefined
    if (newest && !(await store.consumeOnce(`key-rotation:${newest.kid}`, now + period))) return undefined
    return this.rotate({ now: false })
  }

  /** The algorithm of the newest stored key, if there is one: the one the servers sign with. */
  async algorithmInUse(): Promise<SigningAlgorithm | undefined> {
    return newestKey(await this.options.store.listSigningKeys())?.alg
  }

  /**
   * Publishes a new key, of `algorithm` (default: the configured one). It signs after the lead
   * time, or at once with `now` (a compromised key); every key that has no successor yet
   * retires when the new one activates.
   */
  async rotate({
    now: immediately,
    algorithm = this.options.algorithm,
  }: {
    now: boolean
    algorithm?: SigningAlgorithm
  }): Promise<SigningKeyRecord> {
    const { store, clock, cipher, leadTime } = this.options
    const now = nowSeconds(clock)
    const activatesAt = immediately ? now : now + leadTime
    const key = await generateSigningKey(algorithm, cipher, {
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

function newestKey(keys: readonly SigningKeyRecord[]): SigningKeyRecord | undefined {
  return keys.reduce<SigningKeyRecord | undefined>(
    (a, k) => (!a || k.activatesAt > a.activatesAt ? k : a),
    undefined,
  )
}

/** The master key at hand is not the one that sealed the stored keys. */
export class MasterKeyMismatchError extends ConfigError {
  constructor(message: string) {
    super(message)
    this.name = 'MasterKeyMismatchError'
  }
}
