import type { EndpointPolicy, OAuthErrorCode } from '@gatehouse/core'

/**
 * A token API described as data: routes, body encoding, where the credentials are, the
 * success and error envelopes as templates, and the table from core error codes to the
 * API's own status, code and message. The four seed dialects are four such descriptions;
 * the engine in engine.ts turns one into a TokenDialect.
 *
 * Templates are JSON values in which a string "$name" is replaced by a value of the answer
 * (success: access_token, token_type, expires_in, scope, refresh_token; error: status, code,
 * message). A key whose value is undefined is left out, so optional fields disappear.
 */
export interface DialectDescription {
  name: string
  routes: readonly DialectRoute[]
  body: 'form' | 'json'
  /** The field that carries grant_type; routes without it name a fixed grant. */
  grantTypeField?: string
  credentials: CredentialFields
  policy: EndpointPolicy
  success: Template
  error: Template
  errors: ErrorTable
}

export interface DialectRoute {
  method: 'POST' | 'PUT'
  path: string
  /** The grant this route always performs, for APIs whose requests carry no grant_type. */
  grantType?: string
  /** A missing client id or secret is a malformed request here, not a failed authentication. */
  requiresClientSecret?: boolean
}

export type CredentialFields =
  /** client_id/client_secret in the body, or HTTP Basic where `basic` is true. */
  | { scheme: 'client_secret'; clientId: string; clientSecret: string; basic: boolean }
  /** Seed 001's signature. */
  | { scheme: 'signature'; clientId: string; time: string; signature: string }

export interface ErrorEntry {
  status?: number
  code?: string
  message?: string
}

export type ErrorTable = Partial<Record<OAuthErrorCode, ErrorEntry>>

export type Template = null | boolean | number | string | Template[] | { [key: string]: Template }
