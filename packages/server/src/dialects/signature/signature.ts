import type { Config } from '@gatehouse/core'
import type { DialectDescription } from '../description.ts'

/**
 * Seed 001 ("Data API"): POST /api/TokenAuth/Authenticate with JSON {clientId, time,
 * signature}; answers in a {code, data, success, msg} envelope whose code repeats the status.
 */
export function signatureDialect(endpoint: Config['endpoints']['signature']): DialectDescription {
  return {
    name: 'signature',
    routes: [{ method: 'POST', path: endpoint.path, grantType: 'client_credentials' }],
    body: 'json',
    credentials: { scheme: 'signature', clientId: 'clientId', time: 'time', signature: 'signature' },
    policy: {
      grants: ['client_credentials'],
      defaultTtl: endpoint.tokenTtl,
      offerRefreshToken: false,
      refreshWithoutClientAuth: false,
    },
    success: {
      code: 200,
      data: { accessToken: '$access_token', expireInSeconds: '$expires_in' },
      success: true,
      msg: null,
    },
    error: { code: '$status', data: null, success: false, msg: '$message' },
    errors: {
      invalid_client: {
        status: 401,
        message: 'Authentication failed: unknown client, wrong signature, or a stale or replayed time.',
      },
      // A client that may not get tokens here is refused like a failed authentication.
      unauthorized_client: { status: 401 },
      invalid_grant: { status: 401 },
      invalid_scope: { status: 400 },
      unsupported_grant_type: { status: 400 },
    },
  }
}
