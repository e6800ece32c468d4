import type { ClientRecord } from '../model.ts'
import type { GrantDeps, TokenResult } from './grant.ts'

/** Signs an access token for a grant and shapes the result every dialect renders. */
export async function issueTokenResult(
  deps: GrantDeps,
  grant: {
    client: ClientRecord
    subject: string
    scopes: readonly string[]
    ttl: number
    /** RFC 8707 resource indicator. */
    resource?: string
    extra?: Record<string, unknown>
    refreshToken?: string
    /** The `sid` of the refresh family issued or rotated with this token. */
    grant?: string
  },
): Promise<TokenResult> {
  const { audience, scopes } = deps.audiences.resolve(grant.scopes, grant.resource)
  const issued = await deps.tokens.issue({
    clientId: grant.client.clientId,
    subject: grant.subject,
    scopes,
    audience,
    ttl: grant.ttl,
    extra: grant.extra,
    grant: grant.grant,
  })
  const result: TokenResult = { accessToken: issued.token, tokenType: 'bearer', expiresIn: issued.expiresIn }
  if (scopes.length > 0) result.scope = scopes.join(' ')
  if (grant.refreshToken !== undefined) result.refreshToken = grant.refreshToken
  return result
}
