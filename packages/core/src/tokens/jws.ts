import { type KeyObject, sign } from 'node:crypto'
import type { SigningAlgorithm } from '../model.ts'

/*
 * JWS compact serialization (RFC 7515 §7.1) for the one thing the token path signs. It uses
 * node:crypto's asynchronous sign directly, which runs on the libuv thread pool, instead of
 * going through WebCrypto: on this path that is most of the cost of a token. Verification
 * stays with jose.
 */

const DIGEST: Record<SigningAlgorithm, string | null> = { RS256: 'sha256', ES256: 'sha256', EdDSA: null }

export interface JwsSigner {
  kid: string
  alg: SigningAlgorithm
  key: KeyObject
}

const headers = new Map<string, string>()

export function signJwt(signer: JwsSigner, typ: string, payload: Record<string, unknown>): Promise<string> {
  const headerKey = `${signer.kid}.${typ}`
  let header = headers.get(headerKey)
  if (header === undefined) {
    header = base64url(JSON.stringify({ alg: signer.alg, kid: signer.kid, typ }))
    headers.set(headerKey, header)
  }
  const input = `${header}.${base64url(JSON.stringify(payload))}`
  // ECDSA signatures in JWS are r||s (RFC 7518 §3.4), not DER.
  const key = signer.alg === 'ES256' ? { key: signer.key, dsaEncoding: 'ieee-p1363' as const } : signer.key
  return new Promise((resolve, reject) => {
    sign(DIGEST[signer.alg], Buffer.from(input), key, (error, signature) =>
      error ? reject(error) : resolve(`${input}.${signature.toString('base64url')}`),
    )
  })
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url')
}
