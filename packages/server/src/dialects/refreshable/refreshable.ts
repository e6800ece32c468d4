import type { Config } from '@gatehouse/core'
import type { DialectDescription } from '../description.ts'

/**
 * Seed 003 (AMSU): POST {base}/token with client_id and client_secret returns a refresh
 * token too; PUT {base}/token, or POST {base}/token/refreshment where PUT is blocked,
 * trades it for a new pair. Errors are {"error": {"code", "msg"}} with the seed's codes.
 */
export function refreshableDialect(endpoint: Config['endpoints']['refreshable']): DialectDescription {
  const base = endpoint.basePath.replace(/\/$/, '')
  return {
    name: 'refreshable',
    routes: [
      { method: 'POST', path: `${base}/token`, grantType: 'client_credentials', requiresClientSecret: true },
      { method: 'PUT', path: `${base}/token`, grantType: 'refresh_token' },
      { method: 'POST', path: `${base}/token/refreshment`, grantType: 'refresh_token' },
    ],
    body: 'form',
    // The seed names only the body fields; Basic is not part of it.
    credentials: {
      scheme: 'client_secret',
      clientId: 'client_id',
      clientSecret: 'client_secret',
      basic: false,
    },
    policy: {
      grants: ['client_credentials', 'refresh_token'],
      defaultTtl: endpoint.tokenTtl,
      offerRefreshToken: true,
      refreshWithoutClientAuth: true,
    },
    success: {
      access_token: '$access_token',
      token_type: 'bearer',
      expires_in: '$expires_in',
      refresh_token: '$refresh_token',
    },
    error: { error: { code: '$code', msg: '$message' } },
    errors: {
      invalid_client: {
        status: 401,
        code: 'COMMON.AUTHENTICATION_FAILED',
        message: 'Incorrect client id or secret.',
      },
      invalid_grant: {
        status: 401,
        code: 'COMMON.INVALID_REFRESH_TOKEN',
        message: 'The refresh token is invalid or expired.',
      },
      invalid_request: { status: 400, code: 'COMMON.INVALID_REQUEST' },
      invalid_scope: { status: 400, code: 'COMMON.INVALID_REQUEST' },
      invalid_target: { status: 400, code: 'COMMON.INVALID_REQUEST' },
      unsupported_grant_type: { status: 400, code: 'COMMON.INVALID_REQUEST' },
      unauthorized_client: {
        status: 403,
        code: 'COMMON.UNAUTHORIZED_CLIENT',
        message: 'This client may not use this API.',
      },
      too_many_requests: {
        status: 429,
        code: 'COMMON.RATE_LIMITED',
        message: 'Too many failed attempts; try again later.',
      },
      temporarily_unavailable: {
        status: 503,
        code: 'COMMON.SERVICE_UNAVAILABLE',
        message: 'The service is temporarily unavailable.',
      },
      server_error: { status: 500, code: 'COMMON.INTERNAL_ERROR', message: 'Internal error.' },
    },
  }
}
