// Proof that what we measured were real tokens: a sample is fetched with the exact load request and each
// one is verified against the server's published JWKS with jose.
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose'
import type { TokenRequest } from './load.ts'
import type { Alg } from './servers/jwt.ts'

export interface VerifyResult {
  checked: number
  valid: number
  failures: string[]
}

export async function verifySample(
  request: TokenRequest,
  jwksUrl: string,
  alg: Alg,
  count: number,
): Promise<VerifyResult> {
  const failures: string[] = []
  let valid = 0
  let keys: ReturnType<typeof createLocalJWKSet>
  try {
    const res = await fetch(jwksUrl, { signal: AbortSignal.timeout(5000) })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    keys = createLocalJWKSet((await res.json()) as JSONWebKeySet)
  } catch (err) {
    return { checked: 0, valid: 0, failures: [`JWKS ${jwksUrl}: ${(err as Error).message}`] }
  }
  for (let i = 0; i < count; i++) {
    try {
      const res = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(5000),
      })
      const text = await res.text()
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`)
      const body = JSON.parse(text) as { access_token?: unknown; token_type?: unknown; expires_in?: unknown }
      if (typeof body.access_token !== 'string') throw new Error(`no access_token in ${text.slice(0, 200)}`)
      if (String(body.token_type).toLowerCase() !== 'bearer') throw new Error(`token_type ${body.token_type}`)
      if (typeof body.expires_in !== 'number' || body.expires_in <= 0)
        throw new Error(`expires_in ${body.expires_in}`)
      const { payload } = await jwtVerify(body.access_token, keys, { algorithms: [alg] })
      if (typeof payload.exp !== 'number') throw new Error('token has no exp')
      valid++
    } catch (err) {
      failures.push((err as Error).message)
    }
  }
  return { checked: count, valid, failures }
}
