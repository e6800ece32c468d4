import { type KeyObject, sign } from 'node:crypto'
import type { SigningAlgorithm } from '../model.ts'
import { ecdsaDerToJose } from './ecdsa-signature.ts'

/*
 * JWS compact serialization (RFC 7515 §7.1) for the one thing the token path signs. It uses
 * node:crypto directly rather than WebCrypto: on this path the signature is most of the cost
 * of a token. Verification stays with jose.
 */

/**
 * What node:crypto's sign takes for one JWS algorithm and key, prepared once per key. The key
 * is always handed over as the bare KeyObject: given an options object instead (as
 * `{ key, dsaEncoding: 'ieee-p1363' }`), Node 24 finds out that it is neither a KeyObject nor a
 * CryptoKey by catching two TypeErrors, stack traces and all, and then re-encodes the public
 * point to learn the curve's size: about 25 µs per ES256 signature, as much as the signature.
 */
export interface JwsKey {
  digest: string | null
  key: KeyObject
  /** ECDSA: the byte length of r and of s in the JWS form; 0 for the other algorithms. */
  ecdsaSize: number
}

const DIGEST: Record<SigningAlgorithm, string | null> = { RS256: 'sha256', ES256: 'sha256', EdDSA: null }

export function jwsKey(alg: SigningAlgorithm, key: KeyObject): JwsKey {
  return { digest: DIGEST[alg], key, ecdsaSize: alg === 'ES256' ? 32 : 0 }
}

/** The signature of a JWS signing input, base64url, synchronously. */
export function signInput(key: JwsKey, input: string): string {
  return jwsSignature(key, sign(key.digest, Buffer.from(input), key.key))
}

/** node:crypto's signature in its JWS form, base64url (ECDSA: DER to r||s, RFC 7518 §3.4). */
export function jwsSignature(key: JwsKey, signature: Buffer): string {
  return (key.ecdsaSize === 0 ? signature : ecdsaDerToJose(signature, key.ecdsaSize)).toString('base64url')
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

  /** Signs a payload given as its JSON text. */
  sign(typ: string, payload: string): Promise<string> {
    const input = `${this.header(typ)}.${base64url(payload)}`
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
