import { grantScopes } from '../tokens/scope.ts'
import type { GrantHandler } from './grant.ts'
import { issueTokenResult } from './issue.ts'

/** RFC 6749 §4.4: the client acts on its own behalf, so it is also the subject. */
export const clientCredentialsGrant: GrantHandler = {
  grantType: 'client_credentials',
  parameters: new Set(['scope', 'resource']),
  allowsPublicClients: false,

  async handle({ client, parameters, ttl, offerRefreshToken }, deps) {
    const scopes = grantScopes(client.scopes, parameters.scope)
    const refresh =
      offerRefreshToken && client.grants.includes('refresh_token')
        ? await deps.refreshTokens.issue({ clientId: client.clientId, subject: client.clientId, scopes })
        : undefined
    return issueTokenResult(deps, {
      resource: parameters.resource,
      client,
      subject: client.clientId,
      scopes,
      ttl,
      refreshToken: refresh?.token,
      grant: refresh?.grant,
    })
  },
}
