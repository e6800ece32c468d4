import type { ClientCredentials, OAuthError, TokenRequest, TokenResult } from '@gatehouse/core'
import type { HttpInput, HttpReply } from '../http/types.ts'
import type { DialectRoute } from './description.ts'

/**
 * A wire dialect: a thin adapter between one token API's request and answer shapes and core.
 * It holds no business rule: no store access, no scope logic.
 */
export interface TokenDialect {
  /** Name used in metrics and logs. */
  readonly name: string
  readonly routes: readonly DialectRoute[]
  /** The grant types the endpoint takes, for discovery. */
  readonly grants: readonly string[]
  /** Shape errors only; throws OAuthError('invalid_request', …) on a malformed request. */
  parse(http: HttpInput, route: DialectRoute): TokenRequest
  render(result: TokenResult): HttpReply
  /** `credentials` are known when parsing succeeded: a failed Basic authentication is answered with a challenge. */
  renderError(error: OAuthError, credentials?: ClientCredentials): HttpReply
}
