import { OAuthError } from '../errors.ts'
import { grantScopes } from '../tokens/scope.ts'
import type { GrantHandler } from './grant.ts'
import { issueTokenResult } from './issue.ts'

/**
 * RFC 6749 §6 with rotation: every use spends the refresh token and returns a new one; a
 * spent token presented again revokes its family (RFC 9700 §4.14.2).
 */
export const refreshTokenGrant: GrantHandler = {
  grantType: 'refresh_token',
  parameters: new Set(['refresh_token', 'scope', 'resource']),
  allowsPublicClients: false,

  async identifyClient(parameters, deps) {
    const token = parameters.refresh_token
    if (!token) throw new OAuthError('invalid_request', 'The refresh_token parameter is required.')
    const owner = await deps.refreshTokens.ownerOf(token)
    const found = owner === undefined ? undefined : deps.clients.find(owner)
    const client = found instanceof Promise ? await found : found
    if (!client) throw invalidRefreshToken()
    return client
  },

  async handle({ client, parameters, ttl }, deps) {
    const token = parameters.refresh_token
    if (!token) throw new OAuthError('invalid_request', 'The refresh_token parameter is required.')
    const rotated = await deps.refreshTokens.rotate(token, client.clientId)
    if (!rotated) throw invalidRefreshToken()
    // The client may have lost scopes since; the new token never carries more than it has.
    const held = rotated.family.scopes.filter((s) => client.scopes.includes(s))
    const scopes = grantScopes(held, parameters.scope)
    return issueTokenResult(deps, {
      resource: parameters.resource,
      client,
      subject: rotated.family.subject,
      scopes,
      ttl,
      refreshToken: rotated.next,
    })
  },
}

function invalidRefreshToken(): OAuthError {
  return new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.')
}
