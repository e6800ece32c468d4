import { type KeyObject, type SignKeyObjectInput, sign } from 'node:crypto'
import type { SigningAlgorithm } from '../model.ts'

/*
 * JWS compact serialization (RFC 7515 §7.1) for the one thing the token path signs. It uses
 * node:crypto's asynchronous sign directly, which runs on the libuv thread pool, instead of
 * going through WebCrypto: on this path that is most of the cost of a token. Verification
 * stays with jose.
 */

const DIGEST: Record<SigningAlgorithm, string | null> = { RS256: 'sha256', ES256: 'sha256', EdDSA: null }

/** One signing key, prepared once: everything per token is the payload and the signature. */
export class JwsSigner {
  readonly kid: string
  readonly alg: SigningAlgorithm
  private readonly digest: string | null
  private readonly key: KeyObject | SignKeyObjectInput
  private readonly headers = new Map<string, string>()

  constructor(kid: string, alg: SigningAlgorithm, key: KeyObject) {
    this.kid = kid
    this.alg = alg
    this.digest = DIGEST[alg]
    // ECDSA signatures in JWS are r||s (RFC 7518 §3.4), not DER.
    this.key = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key
  }

  sign(typ: string, payload: Record<string, unknown>): Promise<string> {
    const input = `${this.header(typ)}.${base64url(JSON.stringify(payload))}`
    return new Promise((resolve, reject) => {
      sign(this.digest, Buffer.from(input), this.key, (error, signature) =>
        error ? reject(error) : resolve(`${input}.${signature.toString('base64url')}`),
      )
    })
  }

  private header(typ: string): string {
    let header = this.headers.get(typ)
    if (header === undefined) {
      header = base64url(JSON.stringify({ alg: this.alg, kid: this.kid, typ }))
      this.headers.set(typ, header)
    }
    return header
  }
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url')
}
