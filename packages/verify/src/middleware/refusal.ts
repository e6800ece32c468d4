import type { VerifyError } from '../errors.ts'

/** A refused request's answer, framework-neutral: one place decides status, headers and body. */
export interface Refusal {
  status: number
  headers: Record<string, string>
  body: string
}

export function refusal(error: VerifyError, realm: string): Refusal {
  const body = JSON.stringify(error.toJSON())
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
  }
  const challenge = error.wwwAuthenticate(realm)
  if (challenge !== undefined) headers['www-authenticate'] = challenge
  return { status: error.status, headers, body }
}
