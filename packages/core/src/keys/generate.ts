import { generateKeyPair as generateKeyPairCallback, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import type { MasterKeyCipher } from '../cipher.ts'
import type { SigningAlgorithm, SigningKeyRecord } from '../model.ts'

const generateKeyPair = promisify(generateKeyPairCallback) as (
  type: string,
  options: object,
) => Promise<{ publicKey: KeyObject; privateKey: KeyObject }>

const keyParameters: Record<SigningAlgorithm, [string, object]> = {
  RS256: ['rsa', { modulusLength: 2048 }],
  ES256: ['ec', { namedCurve: 'P-256' }],
  EdDSA: ['ed25519', {}],
}

/** Generates a signing key; the kid is the RFC 7638 thumbprint of the public key. */
export async function generateSigningKey(
  alg: SigningAlgorithm,
  cipher: MasterKeyCipher,
  times: { createdAt: number; activatesAt: number },
): Promise<SigningKeyRecord> {
  const [type, options] = keyParameters[alg]
  const { publicKey, privateKey } = await generateKeyPair(type, options)
  const jwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(jwk)
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  return {
    kid,
    alg,
    publicJwk: { ...jwk, kid, alg, use: 'sig' },
    sealedPrivateKey: cipher.encrypt(pem, signingKeyContext(kid)),
    createdAt: times.createdAt,
    activatesAt: times.activatesAt,
    retiresAt: null,
  }
}

/** What a signing key's private part is sealed under, besides the master key: its kid. */
export function signingKeyContext(kid: string): string {
  return `signing-key:${kid}`
}
