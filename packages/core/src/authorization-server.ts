import type { ClientAuthenticator } from './auth/client-authenticator.ts'
import type { ClientCredentials } from './auth/credentials.ts'
import { OAuthError } from './errors.ts'
import type { GrantDeps, TokenResult } from './grants/grant.ts'
import type { GrantRegistry } from './grants/registry.ts'
import type { ClientRecord } from './model.ts'
import type { FailureLimiter } from './rate-limit.ts'

/** A token request as every dialect hands it to core, whatever its wire shape. */
export interface TokenRequest {
  grantType: string | undefined
  credentials: ClientCredentials | undefined
  /** Grant parameters; duplicates were already refused by the dialect's parser. */
  parameters: Readonly<Record<string, string>>
  /** The endpoint's default access-token lifetime, in seconds. */
  defaultTtl: number
  remoteAddress: string
}

export interface RateLimits {
  failuresPerClient: number
  failuresPerAddress: number
}

/**
 * The token endpoint's decisions, free of HTTP: limit, authenticate, pick the grant, check
 * the client may use it, hand over only the grant's declared parameters.
 */
export class AuthorizationServer {
  private readonly grants: GrantRegistry
  private readonly authenticator: ClientAuthenticator
  private readonly limiter: FailureLimiter
  private readonly limits: RateLimits
  private readonly deps: GrantDeps

  constructor(options: {
    grants: GrantRegistry
    authenticator: ClientAuthenticator
    limiter: FailureLimiter
    limits: RateLimits
    deps: GrantDeps
  }) {
    this.grants = options.grants
    this.authenticator = options.authenticator
    this.limiter = options.limiter
    this.limits = options.limits
    this.deps = options.deps
  }

  async token(request: TokenRequest): Promise<TokenResult> {
    if (!request.grantType) throw new OAuthError('invalid_request', 'The grant_type parameter is missing.')
    if (!request.credentials) throw new OAuthError('invalid_client', 'Client authentication is required.')
    await this.checkLimits(request.credentials.clientId, request.remoteAddress)
    const client = await this.authenticate(request.credentials, request.remoteAddress)
    const handler = this.grants.get(request.grantType)
    if (!handler)
      throw new OAuthError(
        'unsupported_grant_type',
        `The grant type "${request.grantType}" is not supported.`,
      )
    if (!client.grants.includes(handler.grantType) || (client.isPublic && !handler.allowsPublicClients)) {
      throw new OAuthError('unauthorized_client', `This client may not use the ${handler.grantType} grant.`)
    }
    const parameters: Record<string, string> = {}
    for (const name of handler.parameters) {
      const value = request.parameters[name]
      if (value !== undefined) parameters[name] = value
    }
    return handler.handle({ client, parameters, ttl: client.tokenTtl ?? request.defaultTtl }, this.deps)
  }

  private async authenticate(credentials: ClientCredentials, address: string): Promise<ClientRecord> {
    try {
      return await this.authenticator.authenticate(credentials)
    } catch (error) {
      if (error instanceof OAuthError && error.code === 'invalid_client') {
        await Promise.all([
          this.limiter.recordFailure(`client:${credentials.clientId}`),
          this.limiter.recordFailure(`address:${address}`),
        ])
      }
      throw error
    }
  }

  private async checkLimits(clientId: string, address: string): Promise<void> {
    const [byClient, byAddress] = await Promise.all([
      this.limiter.blockedFor(`client:${clientId}`, this.limits.failuresPerClient),
      this.limiter.blockedFor(`address:${address}`, this.limits.failuresPerAddress),
    ])
    const wait = Math.max(byClient, byAddress)
    if (wait > 0) {
      throw new OAuthError('too_many_requests', 'Too many failed attempts; try again later.', {
        retryAfter: wait,
      })
    }
  }
}
