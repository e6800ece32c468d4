import type { ClientDirectory } from '../clients/client-directory.ts'
import { type Clock, nowSeconds } from '../clock.ts'
import { OAuthError } from '../errors.ts'
import type { ClientRecord } from '../model.ts'
import { verifySecret, verifySecretFast, verifySecretOrNothing } from '../secrets.ts'
import type { ClientAssertionVerifier } from './client-assertion.ts'
import type { ClientCredentials } from './credentials.ts'
import type { SignatureVerifier } from './signature.ts'

/**
 * Authenticates clients. An unknown client, a wrong secret and a disabled client get the
 * same answer, so the answer never tells whether an id exists (RFC 6749 §5.2 invalid_client).
 */
export class ClientAuthenticator {
  private readonly clients: ClientDirectory
  private readonly clock: Clock
  private readonly signatures: SignatureVerifier
  private readonly assertions: ClientAssertionVerifier

  constructor(options: {
    clients: ClientDirectory
    clock: Clock
    signatures: SignatureVerifier
    assertions: ClientAssertionVerifier
  }) {
    this.clients = options.clients
    this.clock = options.clock
    this.signatures = options.signatures
    this.assertions = options.assertions
  }

  async authenticate(credentials: ClientCredentials): Promise<ClientRecord> {
    const found = this.clients.find(credentials.clientId)
    const client = found instanceof Promise ? await found : found
    if (!client?.enabled) {
      // Spend what checking a secret costs, so that the timing does not say whether the id exists.
      if ('secret' in credentials) await verifySecretOrNothing(credentials.secret, undefined)
      throw invalidClient()
    }
    if (!(await this.proves(client, credentials))) throw invalidClient()
    return client
  }

  private async proves(client: ClientRecord, credentials: ClientCredentials): Promise<boolean> {
    if (credentials.method === 'none') return client.isPublic
    if (client.isPublic) return false
    if (credentials.method === 'private_key_jwt') return this.assertions.verify(client, credentials.assertion)
    if (credentials.method === 'signature') {
      return this.signatures.verify(client, credentials.time, credentials.signature)
    }
    const now = nowSeconds(this.clock)
    let matched = false
    let slow: string[] | undefined
    for (const secret of client.secrets) {
      if (secret.expiresAt !== null && secret.expiresAt <= now) continue
      const fast = verifySecretFast(credentials.secret, secret.hash)
      if (fast === undefined) {
        slow ??= []
        slow.push(secret.hash)
      } else if (fast) matched = true
    }
    // A refusal has checked every live secret. An acceptance by a secret checked in memory skips
    // the scrypt of an imported one not yet verified in this process: its time tells only its
    // sender, who holds a valid secret, which one that is. Without the skip, a client that had
    // moved to its new secret while the imported one was in its grace period paid a scrypt on
    // every request after a restart.
    if (!matched && slow) {
      for (const hash of slow) if (await verifySecret(credentials.secret, hash)) matched = true
    }
    return matched
  }
}

export function invalidClient(): OAuthError {
  return new OAuthError('invalid_client', 'Client authentication failed.')
}
