/**
 * Why a request was refused. The RFC 6750 §3.1 codes, plus:
 * - `missing_token`: the request carries no bearer token at all. RFC 6750 §3.1 says such an
 *   answer SHOULD NOT include an error code, so it is rendered without one (status 401).
 * - `temporarily_unavailable`: the issuer's keys could not be fetched. The token was never
 *   judged, so the client is not told it is invalid: 503, a problem of this server.
 */
export type VerifyErrorCode =
  | 'missing_token'
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'temporarily_unavailable'

const statusOf: Record<VerifyErrorCode, 400 | 401 | 403 | 503> = {
  missing_token: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
}

/**
 * The one error `verify`, `authenticate` and `bearerToken` throw. `description` is safe to send
 * to the client: it never holds the token. Tests and code branch on `code`, never on prose.
 *
 * @example
 * ```ts
 * try {
 *   request.auth = await verifier.authenticate(request.headers.authorization, { scope: 'prices.read' })
 * } catch (error) {
 *   if (!(error instanceof VerifyError)) throw error
 *   const challenge = error.wwwAuthenticate('prices')
 *   if (challenge) response.setHeader('www-authenticate', challenge)
 *   response.writeHead(error.status, { 'content-type': 'application/json' })
 *   response.end(JSON.stringify(error.toJSON()))
 * }
 * ```
 */
export class VerifyError extends Error {
  readonly code: VerifyErrorCode
  readonly status: 400 | 401 | 403 | 503
  readonly description: string
  /** For `insufficient_scope`: the scopes the request needs, space-separated (RFC 6750 §3). */
  readonly scope: string | undefined

  constructor(code: VerifyErrorCode, description: string, options: { scope?: string; cause?: unknown } = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'VerifyError'
    this.code = code
    this.status = statusOf[code]
    this.description = description
    this.scope = options.scope
  }

  /**
   * The `WWW-Authenticate` value for this refusal (RFC 6750 §3), or `undefined` for a 503, which
   * is not a challenge. `realm` is optional; without it the parameter is left out.
   */
  wwwAuthenticate(realm?: string): string | undefined {
    if (this.code === 'temporarily_unavailable') return undefined
    const params: string[] = []
    if (realm !== undefined) params.push(`realm=${quote(realm)}`)
    // RFC 6750 §3.1: a request without authentication gets no error code or other error information.
    if (this.code !== 'missing_token') {
      params.push(`error=${quote(this.code)}`, `error_description=${quote(this.description)}`)
      if (this.scope !== undefined) params.push(`scope=${quote(this.scope)}`)
    }
    return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`
  }

  /** The JSON body the middleware sends: `{error, error_description}`, or `{}` for `missing_token`. */
  toJSON(): { error?: string; error_description?: string } {
    if (this.code === 'missing_token') return {}
    return { error: this.code, error_description: this.description }
  }
}

/**
 * An auth-param quoted-string (RFC 9110 §5.6.4). RFC 6750 §3 limits error_description and scope
 * to printable ASCII without `"` and `\`; anything else is dropped rather than escaped.
 */
function quote(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '')}"`
}
