import { OAuthError } from '../errors.ts'

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/ // RFC 6749 §3.3 scope-token

/**
 * RFC 6749 §3.3: the requested scope must lie within what the client may have; an omitted
 * scope means all of it.
 */
export function grantScopes(allowed: readonly string[], requested: string | undefined): string[] {
  if (requested === undefined) return [...allowed]
  const tokens = requested.split(' ').filter((s) => s.length > 0)
  if (tokens.length === 0) return [...allowed]
  const granted: string[] = []
  for (const token of tokens) {
    if (!SCOPE_TOKEN.test(token)) throw new OAuthError('invalid_scope', 'The scope parameter is malformed.')
    if (!allowed.includes(token))
      throw new OAuthError('invalid_scope', `The scope "${token}" is not allowed for this client.`)
    if (!granted.includes(token)) granted.push(token)
  }
  return granted
}

export function isValidScope(scope: string): boolean {
  return SCOPE_TOKEN.test(scope)
}
