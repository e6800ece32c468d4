import { type ClientAuthenticator, invalidClient } from './auth/client-authenticator.ts'
import type { ClientCredentials } from './auth/credentials.ts'
import { isClientId } from './clients/client-service.ts'
import { OAuthError } from './errors.ts'
import type { GrantDeps, GrantHandler, TokenResult } from './grants/grant.ts'
import type { GrantRegistry } from './grants/registry.ts'
import type { ClientRecord } from './model.ts'
import type { FailureLimiter } from './rate-limit.ts'

/** What an endpoint allows, from its configuration: data, not code. */
export interface EndpointPolicy {
  /** The grant types this endpoint takes. */
  grants: readonly string[]
  /** Access-token lifetime unless the client sets its own, in seconds. */
  defaultTtl: number
  /** Client credentials here also return a refresh token to clients allowed that grant. */
  offerRefreshToken: boolean
  /** A refresh token alone, without client authentication, identifies the client (seed 003). */
  refreshWithoutClientAuth: boolean
}

/** A token request as every dialect hands it to core, whatever its wire shape. */
export interface TokenRequest {
  grantType: string | undefined
  credentials: ClientCredentials | undefined
  /** Grant parameters; duplicates were already refused by the dialect's parser. */
  parameters: Readonly<Record<string, string>>
  policy: EndpointPolicy
  remoteAddress: string
}

export interface RateLimits {
  failuresPerClient: number
  failuresPerAddress: number
}

/**
 * The token endpoint's decisions, free of HTTP: pick the grant, limit, authenticate, check
 * the client may use the grant, hand over only the grant's declared parameters.
 */
export class AuthorizationServer {
  private readonly grants: GrantRegistry
  private readonly authenticator: ClientAuthenticator
  private readonly limiter: FailureLimiter
  private readonly limits: RateLimits
  private readonly deps: GrantDeps
  private readonly maxTtl: number

  constructor(options: {
    grants: GrantRegistry
    authenticator: ClientAuthenticator
    limiter: FailureLimiter
    limits: RateLimits
    deps: GrantDeps
    /** No token lives longer: a retired key stays published only this long (tokens.maxTtl). */
    maxTtl: number
  }) {
    this.maxTtl = options.maxTtl
    this.grants = options.grants
    this.authenticator = options.authenticator
    this.limiter = options.limiter
    this.limits = options.limits
    this.deps = options.deps
  }

  async token(request: TokenRequest): Promise<TokenResult> {
    const { grantType, policy } = request
    if (!grantType) throw new OAuthError('invalid_request', 'The grant_type parameter is missing.')
    const handler = policy.grants.includes(grantType) ? this.grants.get(grantType) : undefined
    if (!handler)
      throw new OAuthError('unsupported_grant_type', `The grant type "${grantType}" is not supported here.`)
    const parameters: Record<string, string> = {}
    for (const name of handler.parameters) {
      const value = request.parameters[name]
      // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
      if (value !== undefined && value !== '') parameters[name] = value
    }

    const address = `address:${request.remoteAddress}`
    const client = await this.identify(request, handler, parameters, address)
    if (!client.grants.includes(handler.grantType) || (client.isPublic && !handler.allowsPublicClients)) {
      throw new OAuthError('unauthorized_client', `This client may not use the ${handler.grantType} grant.`)
    }
    // A wrong second credential (service key, child secret, refresh token) is a failed
    // attempt too. For a public client it counts against the address alone: its id is no
    // secret (anyone could send 20 wrong keys a minute under it and lock all its services
    // out), and its service keys are 256 random bits, which no rate of guessing reaches.
    return this.counting(client.isPublic ? undefined : `client:${client.clientId}`, address, () =>
      handler.handle(
        {
          client,
          parameters,
          // A client's lifetime was checked against the maxTtl of the CLI that set it, which need not be this server's.
          ttl: Math.min(client.tokenTtl ?? policy.defaultTtl, this.maxTtl),
          offerRefreshToken: policy.offerRefreshToken,
        },
        this.deps,
      ),
    )
  }

  /**
   * Authenticates a client for any endpoint (token, introspection, revocation), under the
   * same failed-attempt limits.
   */
  authenticate(credentials: ClientCredentials | undefined, remoteAddress: string): Promise<ClientRecord> {
    return this.authenticateFrom(credentials, `address:${remoteAddress}`)
  }

  private async authenticateFrom(
    credentials: ClientCredentials | undefined,
    address: string,
  ): Promise<ClientRecord> {
    if (!credentials) throw new OAuthError('invalid_client', 'Client authentication is required.')
    // An id no client can have is refused without a lookup, and counted against the address
    // alone: a stream of long random ids would otherwise fill the client cache and the limiter.
    if (!isClientId(credentials.clientId)) {
      await this.checkLimits(undefined, address)
      return this.counting(undefined, address, () => Promise.reject(invalidClient()))
    }
    const client = `client:${credentials.clientId}`
    await this.checkLimits(client, address)
    return this.counting(client, address, () => this.authenticator.authenticate(credentials))
  }

  private async identify(
    request: TokenRequest,
    handler: GrantHandler,
    parameters: Record<string, string>,
    address: string,
  ): Promise<ClientRecord> {
    const { credentials } = request
    const byGrant = handler.identifyClient !== undefined && request.policy.refreshWithoutClientAuth
    // Where the grant names its client, a client_id sent without a secret (as OAuth libraries
    // send it with a refresh token) only says whose the grant must be.
    if (credentials && !(byGrant && credentials.method === 'none'))
      return this.authenticateFrom(credentials, address)
    if (byGrant) {
      await this.checkLimits(undefined, address)
      const client = await this.counting(undefined, address, () =>
        handler.identifyClient!(parameters, this.deps, credentials?.clientId),
      )
      // A disabled client's refresh tokens are refused like unknown ones.
      if (!client.enabled)
        throw new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.')
      return client
    }
    throw new OAuthError('invalid_client', 'Client authentication is required.')
  }

  /** Runs an authentication step; a failure counts against each key's limit. */
  private async counting<T>(client: string | undefined, address: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step()
    } catch (error) {
      if (
        error instanceof OAuthError &&
        (error.code === 'invalid_client' || error.code === 'invalid_grant')
      ) {
        if (client !== undefined) await this.limiter.recordFailure(client)
        await this.limiter.recordFailure(address)
      }
      throw error
    }
  }

  private async checkLimits(client: string | undefined, address: string): Promise<void> {
    const byClient = client === undefined ? 0 : this.limiter.blockedFor(client, this.limits.failuresPerClient)
    const byAddress = this.limiter.blockedFor(address, this.limits.failuresPerAddress)
    const wait = Math.max(
      typeof byClient === 'number' ? byClient : await byClient,
      typeof byAddress === 'number' ? byAddress : await byAddress,
    )
    if (wait > 0) {
      throw new OAuthError('too_many_requests', 'Too many failed attempts; try again later.', {
        retryAfter: wait,
      })
    }
  }
}
