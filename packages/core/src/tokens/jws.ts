import { type KeyObject, type SignKeyObjectInput, sign } from 'node:crypto'
import type { SigningAlgorithm } from '../model.ts'

/*
 * JWS compact serialization (RFC 7515 §7.1) for the one thing the token path signs. It uses
 * node:crypto directly rather than WebCrypto: on this path the signature is most of the cost
 * of a token. Verification stays with jose.
 */

/** What node:crypto's sign takes for one JWS algorithm and key, prepared once per key. */
export interface JwsKey {
  digest: string | null
  key: KeyObject | SignKeyObjectInput
}

const DIGEST: Record<SigningAlgorithm, string | null> = { RS256: 'sha256', ES256: 'sha256', EdDSA: null }

export function jwsKey(alg: SigningAlgorithm, key: KeyObject): JwsKey {
  // ECDSA signatures in JWS are r||s (RFC 7518 §3.4), not DER.
  return { digest: DIGEST[alg], key: alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key }
}

/** The signature of a JWS signing input, base64url, synchronously. */
export function signInput(key: JwsKey, input: string): string {
  return sign(key.digest, Buffer.from(input), key.key).toString('base64url')
}

/**
 * Where signatures are made: the private keys are loaded into it by `kid`, and it answers
 * the base64url signature of a JWS signing input.
 */
export interface SignatureProvider {
  load(kid: string, alg: SigningAlgorithm, key: KeyObject): void
  unload(kid: string): void
  sign(kid: string, input: string): Promise<string>
  close(): Promise<void>
}

/** One signing key: everything per token is the payload and the signature. */
export class JwsSigner {
  readonly kid: string
  readonly alg: SigningAlgorithm
  private readonly signatures: SignatureProvider
  private readonly headers = new Map<string, string>()

  constructor(kid: string, alg: SigningAlgorithm, signatures: SignatureProvider) {
    this.kid = kid
    this.alg = alg
    this.signatures = signatures
  }

  sign(typ: string, payload: Record<string, unknown>): Promise<string> {
    const input = `${this.header(typ)}.${base64url(JSON.stringify(payload))}`
    return this.signatures.sign(this.kid, input).then((signature) => `${input}.${signature}`)
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
