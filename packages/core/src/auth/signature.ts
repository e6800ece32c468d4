import { hash, timingSafeEqual } from 'node:crypto'
import type { MasterKeyCipher } from '../cipher.ts'
import { sealContext } from '../clients/client-service.ts'
import { type Clock, nowSeconds } from '../clock.ts'
import type { ClientRecord } from '../model.ts'
import type { Store } from '../storage/port.ts'

/**
 * Seed 001's signature: uppercase hex MD5(clientId + time + clientSecret). MD5 is the
 * vendor's choice, not ours; what keeps it sound here is the time window and the single use
 * of each (client, time, signature).
 */
export class SignatureVerifier {
  private readonly store: Store
  private readonly cipher: MasterKeyCipher
  private readonly clock: Clock
  private readonly window: number

  constructor(options: { store: Store; cipher: MasterKeyCipher; clock: Clock; window: number }) {
    this.store = options.store
    this.cipher = options.cipher
    this.clock = options.clock
    this.window = options.window
  }

  /**
   * Unsealed secrets by client record, the current one first, then those of a grace period with
   * their expiry: a changed client is a new record, so nothing goes stale.
   */
  private readonly secrets = new WeakMap<ClientRecord, { secret: string; expiresAt: number | null }[]>()

  async verify(client: ClientRecord, time: string, signature: string): Promise<boolean> {
    if (
      !client.signature ||
      client.sealedSecret === null ||
      !/^[0-9a-fA-F]{32}$/.test(signature) ||
      !/^\d{1,16}$/.test(time)
    )
      return false
    const now = nowSeconds(this.clock)
    // Every live secret is checked, so that the timing does not say which one matched.
    let matched = false
    for (const { secret, expiresAt } of this.unsealed(client, client.sealedSecret)) {
      if (expiresAt !== null && expiresAt <= now) continue
      if (md5Matches(`${client.clientId}${time}${secret}`, signature)) matched = true
    }
    if (!matched) return false
    // 13 digits are milliseconds (the seed's example), 10 are seconds (its code samples).
    const sent = time.length >= 13 ? Math.floor(Number(time) / 1000) : Number(time)
    if (Math.abs(now - sent) > this.window) return false
    return this.store.consumeOnce(
      signatureReplayKey(client.clientId, time, signature),
      sent + this.window + 1,
    )
  }

  private unsealed(client: ClientRecord, current: string): { secret: string; expiresAt: number | null }[] {
    let secrets = this.secrets.get(client)
    if (secrets === undefined) {
      const open = (sealed: string) => this.cipher.decrypt(sealed, sealContext(client.clientId))
      secrets = [{ secret: open(current), expiresAt: null }]
      for (const old of client.secrets)
        if (old.sealed !== undefined) secrets.push({ secret: open(old.sealed), expiresAt: old.expiresAt })
      this.secrets.set(client, secrets)
    }
    return secrets
  }
}

/**
 * Whether `signature` (32 hex digits, checked by the caller) is the MD5 of `input`, compared
 * in constant time. The two digests meet in one scratch buffer, cleared after: a fresh Buffer
 * for each, as `hash(…, 'buffer')` and `Buffer.from(…, 'hex')` make them, cost as much as the
 * hash (1.2 against 0.6 µs a check, measured in a loop).
 */
function md5Matches(input: string, signature: string): boolean {
  DIGESTS.write(hash('md5', input, 'binary'), 0, 16, 'latin1')
  DIGESTS.write(signature, 16, 16, 'hex')
  const equal = timingSafeEqual(EXPECTED, SENT)
  DIGESTS.fill(0)
  return equal
}

const DIGESTS = Buffer.alloc(32)
const EXPECTED = DIGESTS.subarray(0, 16)
const SENT = DIGESTS.subarray(16)

/**
 * The key that makes a signed request single-use. The upper-case form counts: a lower-case
 * copy is the same request. The time leads, so that keys arrive in about the order a B-tree
 * stores them: with the client first, each commit of a busy server wrote a page per client
 * that signed in it, and a replay write with a hundred clients cost four times as much.
 */
export function signatureReplayKey(clientId: string, time: string, signature: string): string {
  return `signature:${time}:${clientId}:${signature.toUpperCase()}`
}
