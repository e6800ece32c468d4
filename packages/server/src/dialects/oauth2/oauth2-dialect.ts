import type { ClientCredentials, OAuthError, TokenRequest, TokenResult } from '@gatehouse/core'
import { OAuthError as Err } from '@gatehouse/core'
import { parseBasicAuth } from '../../http/basic-auth.ts'
import { optional, parseForm } from '../../http/form.ts'
import { type HttpInput, type HttpReply, header } from '../../http/types.ts'
import type { TokenDialect } from '../dialect.ts'

/**
 * Standard OAuth 2.0 (RFC 6749) at /oauth/token, which is also the shape of seed 002's
 * token endpoint: form body, client_secret_basic or client_secret_post.
 */
export function oauth2Dialect(options: {
  name?: string
  path: string
  tokenTtl: number
  tokenType?: string
}): TokenDialect {
  const tokenType = options.tokenType ?? 'bearer'
  return {
    name: options.name ?? 'oauth2',
    routes: [{ method: 'POST', path: options.path }],

    parse(http: HttpInput): TokenRequest {
      const form = parseForm(http)
      return {
        grantType: optional(form, 'grant_type'),
        credentials: clientCredentials(form, header(http, 'authorization')),
        parameters: form,
        defaultTtl: options.tokenTtl,
        remoteAddress: http.remoteAddress,
      }
    },

    render(result: TokenResult): HttpReply {
      const body: Record<string, unknown> = {
        access_token: result.accessToken,
        token_type: tokenType,
        expires_in: result.expiresIn,
      }
      if (result.scope !== undefined) body.scope = result.scope
      if (result.refreshToken !== undefined) body.refresh_token = result.refreshToken
      return { status: 200, body }
    },

    renderError(error: OAuthError, request?: TokenRequest): HttpReply {
      return rfc6749Error(error, request?.credentials?.method === 'client_secret_basic')
    },
  }
}

/** RFC 6749 §5.2 error answer. */
export function rfc6749Error(error: OAuthError, basicUsed: boolean): HttpReply {
  const headers: Record<string, string> = {}
  // RFC 6749 §5.2: a failed Basic authentication is answered with the scheme it used.
  if (error.code === 'invalid_client' && basicUsed)
    headers['www-authenticate'] = 'Basic realm="gatehouse", charset="UTF-8"'
  if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter)
  return { status: error.status, headers, body: { error: error.code, error_description: error.description } }
}

/**
 * client_secret_basic or client_secret_post; using both at once is refused (RFC 6749 §2.3:
 * the client MUST NOT use more than one authentication method in each request).
 */
function clientCredentials(
  form: Record<string, string>,
  authorization: string | undefined,
): ClientCredentials | undefined {
  const basic = parseBasicAuth(authorization)
  const bodyId = optional(form, 'client_id')
  const bodySecret = optional(form, 'client_secret')
  if (basic) {
    if (bodySecret !== undefined)
      throw new Err(
        'invalid_request',
        'Use one client authentication method, not both Basic and client_secret.',
      )
    if (bodyId !== undefined && bodyId !== basic.clientId)
      throw new Err('invalid_request', 'client_id does not match the Basic credentials.')
    return { method: 'client_secret_basic', clientId: basic.clientId, secret: basic.secret }
  }
  if (bodyId === undefined) return undefined
  if (bodySecret === undefined) return { method: 'none', clientId: bodyId }
  return { method: 'client_secret_post', clientId: bodyId, secret: bodySecret }
}
