// Shared by the floor and the oauth2-server peer so that both pay exactly the same signing cost:
// one async node:crypto signature per token, nothing cached but the constant header.
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto'
import { ecdsaDerToJose } from '../../packages/core/src/tokens/ecdsa-signature.ts'

export const TOKEN_TTL_SECONDS = 3600
export const BENCH_AUDIENCE = 'urn:gatehouse:bench'
export const BENCH_SCOPE = 'bench.read'

export type Alg = 'RS256' | 'ES256' | 'EdDSA'
export const ALGS: readonly Alg[] = ['RS256', 'ES256', 'EdDSA']

export function parseAlg(value: string | undefined): Alg {
  if (value === 'RS256' || value === 'ES256' || value === 'EdDSA') return value
  throw new Error(`BENCH_ALG must be one of ${ALGS.join(', ')}, got ${JSON.stringify(value)}`)
}

export interface SigningKey {
  alg: Alg
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
}

// Key sizes are fixed by the issue: RSA 2048, P-256, Ed25519.
export function generateSigningKey(alg: Alg): SigningKey {
  const kid = randomBytes(8).toString('base64url')
  if (alg === 'RS256') {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    return { alg, kid, privateKey, publicKey }
  }
  if (alg === 'ES256') {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    return { alg, kid, privateKey, publicKey }
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return { alg, kid, privateKey, publicKey }
}

export function publicJwks(key: SigningKey): { keys: Record<string, unknown>[] } {
  return { keys: [{ ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, alg: key.alg, use: 'sig' }] }
}

export function privateJwk(key: SigningKey): Record<string, unknown> {
  return { ...key.privateKey.export({ format: 'jwk' }), kid: key.kid, alg: key.alg, use: 'sig' }
}

export type JwtSigner = (claims: Record<string, unknown>) => Promise<string>

export function createJwtSigner(key: SigningKey): JwtSigner {
  const header = Buffer.from(JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid: key.kid })).toString(
    'base64url',
  )
  // EdDSA takes no digest name. JWS wants raw r||s for ECDSA where node answers DER: the key goes in bare and
  // the DER is converted after, as Gatehouse does, because node 24 given { key, dsaEncoding } spends about
  // 25 us a signature telling that the options object is not a key (packages/core/src/tokens/jws.ts).
  const digest = key.alg === 'EdDSA' ? null : 'sha256'
  const jose = key.alg === 'ES256' ? (der: Buffer) => ecdsaDerToJose(der, 32) : (raw: Buffer) => raw
  return (claims) => {
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
    return new Promise((resolve, reject) => {
      sign(digest, Buffer.from(input), key.privateKey, (err, signature) => {
        if (err) reject(err)
        else resolve(`${input}.${jose(signature).toString('base64url')}`)
      })
    })
  }
}

export function accessTokenClaims(issuer: string, clientId: string, scope: string): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return {
    iss: issuer,
    sub: clientId,
    aud: BENCH_AUDIENCE,
    iat: now,
    exp: now + TOKEN_TTL_SECONDS,
    jti: randomBytes(16).toString('base64url'),
    client_id: clientId,
    scope,
  }
}
