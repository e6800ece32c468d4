export {
  ASSERTION_ALGORITHMS,
  ClientAssertionVerifier,
  JWT_BEARER_ASSERTION,
} from './auth/client-assertion.ts'
export { ClientAuthenticator, invalidClient } from './auth/client-authenticator.ts'
export type { AuthMethod, ClientCredentials } from './auth/credentials.ts'
export { signatureReplayKey } from './auth/signature.ts'
export {
  AuthorizationServer,
  type EndpointPolicy,
  type RateLimits,
  type TokenRequest,
} from './authorization-server.ts'
export { CLIENTS_IN_MEMORY, keepWithin } from './bounded.ts'
export { MasterKeyCipher } from './cipher.ts'
export { ApiService } from './clients/api-service.ts'
export { ClientDirectory } from './clients/client-directory.ts'
export {
  ClientService,
  type ClientWithSecret,
  type CreateClientInput,
  ValidationError,
} from './clients/client-service.ts'
export { CredentialCache } from './clients/credential-cache.ts'
export { CredentialService } from './clients/credential-service.ts'
export { type Clock, ManualClock, nowSeconds, systemClock } from './clock.ts'
export { type Config, ConfigError, type ConfigInput, configSchema, parseConfig } from './config/schema.ts'
export {
  ConflictError,
  NotFoundError,
  OAuthError,
  type OAuthErrorCode,
  StorageUnavailableError,
  toOAuthError,
} from './errors.ts'
export { type Gatehouse, type GatehouseOptions, startGatehouse } from './gatehouse.ts'
export type { GrantDeps, GrantHandler, GrantRequest, TokenResult } from './grants/grant.ts'
export { GrantRegistry } from './grants/registry.ts'
export { jsonStringMemo } from './json-string.ts'
export { KeyManager, MasterKeyMismatchError } from './keys/key-manager.ts'
export { type Jwks, KeyRing } from './keys/key-ring.ts'
export { currentSigner, isPublished, type KeyState, keyState, unpublishesAt } from './keys/key-state.ts'
export {
  type ApiRecord,
  type Change,
  type ChangeKind,
  type ChildRecord,
  type ClientRecord,
  GRANT_TYPES,
  type GrantType,
  type RefreshFamilyRecord,
  type RefreshRotation,
  type ServiceKeyRecord,
  type SigningAlgorithm,
  type SigningKeyRecord,
  type StoredSecret,
} from './model.ts'
export { randomToken } from './random.ts'
export { type FailureLimiter, MemoryFailureLimiter } from './rate-limit.ts'
export { hashSecret, safeEqual, safeEqualString, verifySecret } from './secrets.ts'
export { ChangeFeed } from './storage/change-feed.ts'
export { MemoryStore } from './storage/memory.ts'
export type { ClientCursor, Store } from './storage/port.ts'
export { AccessTokenIssuer } from './tokens/access-token.ts'
export { AudienceResolver } from './tokens/audience.ts'
export { hashRefreshSecret, parseRefreshToken, RefreshTokenService } from './tokens/refresh-tokens.ts'
export { grantScopes } from './tokens/scope.ts'
export { type Introspection, TokenInspector } from './tokens/token-inspector.ts'
export { atTurnEnd } from './turn-end.ts'
