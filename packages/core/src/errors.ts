/**
 * The one error type of the token path. Codes are a closed union: RFC 6749 §5.2 codes plus
 * the few that Gatehouse needs for transport-level refusals. Dialects map codes to their own
 * wire format in one table each; tests assert on codes, never on prose.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'too_many_requests'
  | 'server_error'
  | 'temporarily_unavailable'

const defaultStatus: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  too_many_requests: 429,
  server_error: 500,
  temporarily_unavailable: 503,
}

export interface OAuthErrorOptions {
  status?: number
  /** Seconds, sent as `Retry-After` with 429 and 503. */
  retryAfter?: number
  cause?: unknown
}

export class OAuthError extends Error {
  readonly code: OAuthErrorCode
  readonly status: number
  readonly description: string
  readonly retryAfter: number | undefined

  constructor(code: OAuthErrorCode, description: string, options: OAuthErrorOptions = {}) {
    super(description, { cause: options.cause })
    this.name = 'OAuthError'
    this.code = code
    this.description = description
    this.status = options.status ?? defaultStatus[code]
    this.retryAfter = options.retryAfter
  }
}

/** Raised by stores when the backing database cannot be reached; maps to 503. */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StorageUnavailableError'
  }
}

/** Raised by stores on a unique-key violation (a client id that is taken, say). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConflictError'
  }
}

/** Raised by admin operations on a missing record. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NotFoundError'
  }
}

/**
 * Anything that is not an OAuthError becomes a generic one that leaks nothing; the original
 * stays in `cause` for the log.
 */
export function toOAuthError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error
  if (error instanceof StorageUnavailableError) {
    return new OAuthError('temporarily_unavailable', 'The service is temporarily unavailable.', {
      retryAfter: 5,
      cause: error,
    })
  }
  return new OAuthError('server_error', 'The server encountered an unexpected condition.', { cause: error })
}
