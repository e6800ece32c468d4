import type { ClientDirectory } from '../clients/client-directory.ts'
import type { CredentialCache } from '../clients/credential-cache.ts'
import type { Clock } from '../clock.ts'
import type { ClientRecord, GrantType } from '../model.ts'
import type { Store } from '../storage/port.ts'
import type { AccessTokenIssuer } from '../tokens/access-token.ts'
import type { AudienceResolver } from '../tokens/audience.ts'
import type { RefreshTokenService } from '../tokens/refresh-tokens.ts'

/** What a grant handler gets: an authenticated client and only the parameters it declared. */
export interface GrantRequest {
  client: ClientRecord
  parameters: Readonly<Record<string, string>>
  /** The access-token lifetime: the client's own, else the endpoint's default. */
  ttl: number
  /** The endpoint hands out refresh tokens (seed 003) to clients allowed that grant. */
  offerRefreshToken: boolean
}

export interface GrantDeps {
  tokens: AccessTokenIssuer
  audiences: AudienceResolver
  refreshTokens: RefreshTokenService
  clients: ClientDirectory
  /** Service keys and child credentials, cached. */
  credentials: CredentialCache
  store: Store
  clock: Clock
}

export interface TokenResult {
  /** A compact JWS: base64url and dots only, so it never needs escaping in JSON. */
  accessToken: string
  tokenType: 'bearer'
  expiresIn: number
  /** Omitted when the token carries no scope. */
  scope?: string
  /** Base64url only (see refresh-tokens.ts), so it never needs escaping in JSON. */
  refreshToken?: string
}

export interface GrantHandler {
  readonly grantType: GrantType
  /** The parameters this grant reads; every other parameter is stripped before `handle`. */
  readonly parameters: ReadonlySet<string>
  /** Whether a public client (no secret) may use this grant. */
  readonly allowsPublicClients: boolean
  /**
   * For a grant whose own credential names the client (a refresh token), at an endpoint
   * that takes it without client authentication: finds that client, or throws invalid_grant.
   * `named` is a client_id sent without a secret: the credential must be that client's.
   */
  identifyClient?(
    parameters: Readonly<Record<string, string>>,
    deps: GrantDeps,
    named: string | undefined,
  ): Promise<ClientRecord>
  handle(request: GrantRequest, deps: GrantDeps): Promise<TokenResult>
}
