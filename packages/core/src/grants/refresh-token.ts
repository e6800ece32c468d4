import { OAuthError } from '../errors.ts'
import type { ClientRecord, RefreshFamilyRecord } from '../model.ts'
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

  async identifyClient(parameters, deps, named) {
    const token = parameters.refresh_token
    if (!token) throw new OAuthError('invalid_request', 'The refresh_token parameter is required.')
    const owner = await deps.refreshTokens.ownerOf(token)
    // Another client's token is refused like an unknown one, and its family left alone.
    if (named !== undefined && owner !== named) throw invalidRefreshToken()
    const found = owner === undefined ? undefined : deps.clients.find(owner)
    const client = found instanceof Promise ? await found : found
    if (!client) throw invalidRefreshToken()
    return client
  },

  async handle({ client, parameters, ttl }, deps) {
    const token = parameters.refresh_token
    if (!token) throw new OAuthError('invalid_request', 'The refresh_token parameter is required.')
    // A scope or resource that would be refused is refused before the token is spent, so the
    // client keeps a token it can still use. Only such a request reads the family first: the
    // usual refresh stays one write. A token that is not its family's current one goes on to
    // `rotate`, whose reuse detection must see it.
    if (parameters.scope !== undefined || parameters.resource !== undefined) {
      const family = await deps.refreshTokens.current(token, client.clientId)
      if (family)
        deps.audiences.resolve(grantScopes(held(family, client), parameters.scope), parameters.resource)
    }
    const rotated = await deps.refreshTokens.rotate(token, client.clientId)
    if (!rotated) throw invalidRefreshToken()
    const scopes = grantScopes(held(rotated.family, client), parameters.scope)
    return issueTokenResult(deps, {
      resource: parameters.resource,
      client,
      subject: rotated.family.subject,
      scopes,
      ttl,
      refreshToken: rotated.next,
      grant: rotated.grant,
    })
  },
}

/** The family's scopes the client still has: the new token never carries more than it has now. */
function held(family: RefreshFamilyRecord, client: ClientRecord): string[] {
  return family.scopes.filter((s) => client.scopes.includes(s))
}

function invalidRefreshToken(): OAuthError {
  return new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.')
}
