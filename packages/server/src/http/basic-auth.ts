import { OAuthError } from '@gatehouse/core'

export interface BasicCredentials {
  clientId: string
  secret: string
}

/**
 * RFC 6749 §2.3.1: id and secret are form-urlencoded, joined by a colon, then base64. Answers
 * undefined when the header is not Basic at all; throws on a malformed Basic header.
 */
export function parseBasicAuth(authorization: string | undefined): BasicCredentials | undefined {
  if (authorization === undefined) return undefined
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization)
  if (!/^Basic(\s|$)/i.test(authorization)) return undefined
  if (!match) throw malformed()
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon <= 0) throw malformed()
  try {
    const clientId = formDecode(decoded.slice(0, colon))
    const secret = formDecode(decoded.slice(colon + 1))
    if (!clientId) throw malformed()
    return { clientId, secret }
  } catch {
    throw malformed()
  }
}

function formDecode(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text
  return decodeURIComponent(text.replaceAll('+', ' '))
}

function malformed(): OAuthError {
  return new OAuthError('invalid_request', 'The Authorization header is not a valid Basic credential.')
}
