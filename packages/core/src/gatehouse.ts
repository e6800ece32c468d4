import { ClientAssertionVerifier } from './auth/client-assertion.ts'
import { ClientAuthenticator } from './auth/client-authenticator.ts'
import { SignatureVerifier } from './auth/signature.ts'
import { AuthorizationServer } from './authorization-server.ts'
import type { MasterKeyCipher } from './cipher.ts'
import { ClientDirectory } from './clients/client-directory.ts'
import { CredentialCache } from './clients/credential-cache.ts'
import type { Clock } from './clock.ts'
import type { Config } from './config/schema.ts'
import { childCredentialsGrant } from './grants/child-credentials.ts'
import { clientCredentialsGrant } from './grants/client-credentials.ts'
import { refreshTokenGrant } from './grants/refresh-token.ts'
import { GrantRegistry } from './grants/registry.ts'
import { serviceKeyGrant } from './grants/service-key.ts'
import { KeyManager } from './keys/key-manager.ts'
import { KeyRing } from './keys/key-ring.ts'
import { SignatureRouter } from './keys/signature-router.ts'
import type { SigningKeyRecord } from './model.ts'
import { type FailureLimiter, MemoryFailureLimiter } from './rate-limit.ts'
import { ChangeFeed } from './storage/change-feed.ts'
import type { Store } from './storage/port.ts'
import { AccessTokenIssuer } from './tokens/access-token.ts'
import { AudienceResolver } from './tokens/audience.ts'
import type { SignatureProvider } from './tokens/jws.ts'
import { RefreshTokenService } from './tokens/refresh-tokens.ts'
import { TokenInspector } from './tokens/token-inspector.ts'

export interface GatehouseOptions {
  config: Config
  /** The issuer URL, resolved by the server from config or its listen address. */
  issuer: string
  store: Store
  cipher: MasterKeyCipher
  clock: Clock
  limiter?: FailureLimiter
  onBackgroundError: (error: unknown) => void
}

/** The running core: the token path and the state it keeps fresh from storage. */
export interface Gatehouse {
  authorizationServer: AuthorizationServer
  inspector: TokenInspector
  grants: GrantRegistry
  keys: KeyRing
  keyManager: KeyManager
  clients: ClientDirectory
  changes: ChangeFeed
  /** The signing key made at start, when there was none of the configured algorithm. */
  createdKey: SigningKeyRecord | undefined
  stop(): Promise<void>
}

/** Wires core for a server process and loads what it needs from storage. */
export async function startGatehouse(options: GatehouseOptions): Promise<Gatehouse> {
  const signing = new SignatureRouter({
    threads: options.config.keys.signingThreads,
    onError: options.onBackgroundError,
  })
  try {
    return await wire(options, signing)
  } catch (error) {
    await signing.close()
    throw error
  }
}

async function wire(options: GatehouseOptions, signing: SignatureProvider): Promise<Gatehouse> {
  const { config, store, cipher, clock } = options
  const keys = new KeyRing({ store, cipher, clock, maxTtl: config.tokens.maxTtl, signatures: signing })
  const keyManager = new KeyManager({
    store,
    cipher,
    clock,
    algorithm: config.tokens.algorithm,
    leadTime: config.keys.leadTime,
  })
  const changes = new ChangeFeed({
    store,
    interval: config.changePollInterval,
    onError: options.onBackgroundError,
  })
  // Before anything is loaded: a key rotated or an API created meanwhile is then announced.
  await changes.mark()
  await keyManager.checkMasterKey()
  const createdKey = await keyManager.ensureSigningKey()
  await keys.reload()

  const audiences = new AudienceResolver({
    defaultAudience: config.tokens.defaultAudience ?? options.issuer,
    allowMultiple: config.tokens.allowMultipleAudiences,
  })
  audiences.load(await store.listApis())
  const clients = new ClientDirectory(store)
  const credentials = new CredentialCache(store)
  changes.on('client', ({ id }) => {
    if (id === '*') {
      clients.clear()
      credentials.clear()
    } else {
      clients.invalidate(id)
      credentials.invalidate(id)
    }
  })
  changes.on('key', () => keys.reload())
  changes.on('api', async () => audiences.load(await store.listApis()))
  await changes.start()
  const rotation = scheduleRotation(keyManager, keys, config.keys.rotationPeriod, options.onBackgroundError)

  const grants = new GrantRegistry()
    .register(clientCredentialsGrant)
    .register(serviceKeyGrant)
    .register(childCredentialsGrant('csp_credentials'))
    .register(childCredentialsGrant('client_pc_credentials'))
    .register(refreshTokenGrant)
  const signatures = new SignatureVerifier({
    store,
    cipher,
    clock,
    window: config.endpoints.signature.window,
  })
  const authorizationServer = new AuthorizationServer({
    grants,
    authenticator: new ClientAuthenticator({
      clients,
      clock,
      signatures,
      assertions: new ClientAssertionVerifier({ store, clock, issuer: options.issuer }),
    }),
    limiter: options.limiter ?? new MemoryFailureLimiter(() => clock.now()),
    limits: config.rateLimit,
    maxTtl: config.tokens.maxTtl,
    deps: {
      tokens: new AccessTokenIssuer({ keys, clock, issuer: options.issuer, typ: config.tokens.typ }),
      audiences,
      refreshTokens: new RefreshTokenService({
        store,
        clock,
        ttl: config.tokens.refreshTokenTtl,
        accessTokenMaxTtl: config.tokens.maxTtl,
        familiesPerClient: config.tokens.refreshFamiliesPerClient,
      }),
      clients,
      credentials,
      store,
      clock,
    },
  })
  return {
    authorizationServer,
    inspector: new TokenInspector({
      keys,
      store,
      clients,
      clock,
      issuer: options.issuer,
      maxTtl: config.tokens.maxTtl,
    }),
    grants,
    keys,
    keyManager,
    clients,
    changes,
    createdKey,
    stop: async () => {
      clearInterval(rotation)
      await changes.stop()
      await signing.close()
    },
  }
}

/** Checks for a due rotation on a period short enough to be on time, and long enough to cost nothing. */
function scheduleRotation(
  keyManager: KeyManager,
  keys: KeyRing,
  period: number,
  onError: (error: unknown) => void,
): NodeJS.Timeout | undefined {
  if (period === 0) return undefined
  const check = () =>
    keyManager
      .rotateIfDue(period)
      .then((key) => (key ? keys.reload() : undefined))
      .catch(onError)
  void check()
  const timer = setInterval(check, Math.max(100, Math.min(60_000, (period * 1000) / 10)))
  timer.unref()
  return timer
}
