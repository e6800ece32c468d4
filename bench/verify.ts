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

// One token from the endpoint under test; throws with the reason when the answer carries none.
export type FetchToken = () => Promise<string>

export async function verifyTokens(
  fetchToken: FetchToken,
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
      const token = await fetchToken()
      const { payload } = await jwtVerify(token, keys, { algorithms: [alg] })
      if (typeof payload.exp !== 'number') throw new Error('token has no exp')
      valid++
    } catch (err) {
      failures.push((err as Error).message)
    }
  }
  return { checked: count, valid, failures }
}

// Sends one request and returns the parsed JSON answer, or throws with the status and the start of the body.
export async function postJson(
  url: string,
  init: { method?: string; headers: Record<string, string>; body: string },
): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', ...init, signal: AbortSignal.timeout(5000) })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`)
  return JSON.parse(text) as Record<string, unknown>
}

// The RFC 6749 §5.1 answer: access_token, token_type bearer, a positive expires_in.
export function oauthAccessToken(body: Record<string, unknown>): string {
  const text = JSON.stringify(body).slice(0, 200)
  if (typeof body.access_token !== 'string') throw new Error(`no access_token in ${text}`)
  if (String(body.token_type).toLowerCase() !== 'bearer') throw new Error(`token_type ${body.token_type}`)
  if (typeof body.expires_in !== 'number' || body.expires_in <= 0)
    throw new Error(`expires_in ${body.expires_in}`)
  return body.access_token
}

export function verifySample(
  request: TokenRequest,
  jwksUrl: string,
  alg: Alg,
  count: number,
): Promise<VerifyResult> {
  const fetchToken = async () => oauthAccessToken(await postJson(request.url, request))
  return verifyTokens(fetchToken, jwksUrl, alg, count)
}
