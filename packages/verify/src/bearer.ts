import { VerifyError } from './errors.ts'

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token;
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". The scheme is
// case-insensitive (RFC 9110 §11.1).
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i
const SCHEME = /^Bearer(?:\s|$)/i

/**
 * The token of an `Authorization: Bearer …` header (RFC 6750 §2.1).
 *
 * - no header, an empty one, or another scheme (`Basic …`): `missing_token` (401, and no error
 *   code in the challenge, RFC 6750 §3.1);
 * - `Bearer` with no token, two tokens, or characters outside b64token: `invalid_request` (400).
 *
 * @example
 * ```ts
 * const token = bearerToken(request.headers.authorization) // throws VerifyError
 * ```
 */
export function bearerToken(authorization: string | string[] | undefined | null): string {
  // Node folds a repeated Authorization header into its first value; a raw array is ambiguous.
  if (Array.isArray(authorization)) {
    if (authorization.length > 1) throw malformed('The request carries more than one Authorization header.')
    authorization = authorization[0]
  }
  if (!authorization) throw new VerifyError('missing_token', 'The request carries no bearer token.')
  const match = BEARER.exec(authorization)
  if (match) return match[1]!
  if (!SCHEME.test(authorization)) {
    throw new VerifyError('missing_token', 'The request carries no bearer token.')
  }
  throw malformed('The Authorization header is not "Bearer" followed by one token.')
}

function malformed(description: string): VerifyError {
  return new VerifyError('invalid_request', description)
}
