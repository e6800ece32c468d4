// Peer: oidc-provider 9 configured for client_credentials only, issuing JWT access tokens for one resource
// server. It signs through jose/WebCrypto, which is async too.
import { createServer } from 'node:http'
import Provider from 'oidc-provider'
import { announceListening, readChildConfig } from './env.ts'
import { BENCH_AUDIENCE, BENCH_SCOPE, generateSigningKey, privateJwk, TOKEN_TTL_SECONDS } from './jwt.ts'

const config = readChildConfig()
const key = generateSigningKey(config.alg)
const issuer = `http://127.0.0.1:${config.port}`

const resourceServer = {
  scope: BENCH_SCOPE,
  audience: BENCH_AUDIENCE,
  accessTokenTTL: TOKEN_TTL_SECONDS,
  accessTokenFormat: 'jwt' as const,
  jwt: { sign: { alg: config.alg } },
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.clientId,
      client_secret: config.clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      // Never used for an ID token here, but client validation rejects an alg the keystore cannot serve.
      id_token_signed_response_alg: config.alg,
      scope: BENCH_SCOPE,
    },
  ],
  jwks: { keys: [privateJwk(key)] },
  scopes: [BENCH_SCOPE],
  ttl: { ClientCredentials: TOKEN_TTL_SECONDS },
  routes: { token: '/oauth/token', jwks: '/.well-known/jwks.json' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Without a default resource a request with no `resource` parameter gets an opaque token, not a JWT.
      defaultResource: () => BENCH_AUDIENCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => resourceServer,
    },
  },
})

// Errors a client caused (bad secret) are logged by oidc-provider only when listened for; keep them visible.
provider.on('server_error', (_ctx, err) => console.error('server_error', err))

const server = createServer(provider.callback())
server.keepAliveTimeout = 65_000
server.listen(config.port, '127.0.0.1', () => announceListening(config.port))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
