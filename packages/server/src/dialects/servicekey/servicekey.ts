import type { Config } from '@gatehouse/core'
import type { DialectDescription } from '../description.ts'
import { rfc6749Credentials, rfc6749Error } from '../rfc6749.ts'

/**
 * Seed 000 (Fastmarkets): POST /connect/token with grant_type=servicekey, or
 * client_credentials; the answer spells token_type "Bearer" and lists expires_in before it.
 */
export function servicekeyDialect(endpoint: Config['endpoints']['servicekey']): DialectDescription {
  return {
    name: 'servicekey',
    routes: [{ method: 'POST', path: endpoint.path }],
    body: 'form',
    grantTypeField: 'grant_type',
    credentials: rfc6749Credentials,
    policy: {
      grants: ['servicekey', 'client_credentials'],
      defaultTtl: endpoint.tokenTtl,
      offerRefreshToken: false,
      refreshWithoutClientAuth: false,
    },
    success: {
      access_token: '$access_token',
      expires_in: '$expires_in',
      token_type: 'Bearer',
      scope: '$scope',
    },
    error: rfc6749Error,
    errors: {},
  }
}
