import type { Config } from '@gatehouse/core'
import type { DialectDescription } from '../description.ts'
import { rfc6749Credentials, rfc6749Error } from '../rfc6749.ts'

/**
 * Standard OAuth 2.0 (RFC 6749) at /oauth/token, which is also seed 002's endpoint with its
 * parent/child grants: form body, client_secret_basic or client_secret_post.
 */
export function oauth2Dialect(endpoint: Config['endpoints']['oauth2']): DialectDescription {
  return {
    name: 'oauth2',
    routes: [{ method: 'POST', path: endpoint.path }],
    body: 'form',
    grantTypeField: 'grant_type',
    credentials: rfc6749Credentials,
    policy: {
      grants: ['client_credentials', 'csp_credentials', 'client_pc_credentials', 'refresh_token'],
      defaultTtl: endpoint.tokenTtl,
      offerRefreshToken: false,
      refreshWithoutClientAuth: false,
    },
    success: {
      access_token: '$access_token',
      token_type: 'bearer',
      expires_in: '$expires_in',
      scope: '$scope',
      refresh_token: '$refresh_token',
    },
    error: rfc6749Error,
    errors: {},
  }
}
