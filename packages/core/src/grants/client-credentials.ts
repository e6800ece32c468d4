import { grantScopes } from '../tokens/scope.ts'
import type { GrantDeps, GrantHandler, GrantRequest, TokenResult } from './grant.ts'

/** RFC 6749 §4.4: the client acts on its own behalf, so it is also the subject. */
export const clientCredentialsGrant: GrantHandler = {
  grantType: 'client_credentials',
  parameters: new Set(['scope']),
  allowsPublicClients: false,

  async handle({ client, parameters, ttl }: GrantRequest, deps: GrantDeps): Promise<TokenResult> {
    const scopes = grantScopes(client.scopes, parameters.scope)
    const issued = await deps.tokens.issue({
      clientId: client.clientId,
      subject: client.clientId,
      scopes,
      audience: deps.audiences.resolve(scopes),
      ttl,
    })
    return { accessToken: issued.token, tokenType: 'bearer', expiresIn: issued.expiresIn, ...scopeOf(scopes) }
  },
}

export function scopeOf(scopes: readonly string[]): { scope?: string } {
  return scopes.length > 0 ? { scope: scopes.join(' ') } : {}
}
