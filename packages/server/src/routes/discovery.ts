import { ASSERTION_ALGORITHMS, type Config, type Gatehouse } from '@gatehouse/core'
import type { FastifyInstance } from 'fastify'
import type { TokenDialect } from '../dialects/dialect.ts'

/**
 * RFC 8414 and OpenID discovery, and the JWKS. These may be read cross-origin (a browser SDK
 * discovers keys); they carry no secret.
 */
export function mountDiscovery(
  app: FastifyInstance,
  deps: { gatehouse: Gatehouse; config: Config; issuer: string; oauth2?: TokenDialect },
): void {
  const { gatehouse, config, issuer } = deps
  const { introspection, revocation } = config.endpoints
  const authMethods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt']
  const assertionAlgorithms = ASSERTION_ALGORITHMS
  // Built once: what is enabled cannot change while the server runs.
  const metadata = {
    issuer,
    ...(deps.oauth2
      ? {
          token_endpoint: `${issuer}${deps.oauth2.routes[0]!.path}`,
          token_endpoint_auth_methods_supported: authMethods,
          token_endpoint_auth_signing_alg_values_supported: assertionAlgorithms,
        }
      : {}),
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    ...(introspection.enabled
      ? {
          introspection_endpoint: `${issuer}${introspection.path}`,
          introspection_endpoint_auth_methods_supported: authMethods,
          introspection_endpoint_auth_signing_alg_values_supported: assertionAlgorithms,
        }
      : {}),
    ...(revocation.enabled
      ? {
          revocation_endpoint: `${issuer}${revocation.path}`,
          revocation_endpoint_auth_methods_supported: authMethods,
          revocation_endpoint_auth_signing_alg_values_supported: assertionAlgorithms,
        }
      : {}),
    grant_types_supported: deps.oauth2?.grants ?? [],
    // Machine-to-machine only: no authorization endpoint, so no response types.
    response_types_supported: [],
    access_token_signing_alg_values_supported: [config.tokens.algorithm],
    id_token_signing_alg_values_supported: [config.tokens.algorithm],
    subject_types_supported: ['public'],
    resource_indicators_supported: true,
    service_documentation: 'https://github.com/gatehouse/gatehouse#readme',
  }
  const jwksMaxAge = Math.max(0, Math.min(300, Math.floor(config.keys.leadTime / 2)))

  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    app.get(path, async (_request, reply) => {
      reply.header('access-control-allow-origin', '*')
      reply.header('cache-control', 'public, max-age=300')
      return metadata
    })
  }
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('access-control-allow-origin', '*')
    // Short enough that a key published now is seen by verifiers before it starts signing.
    reply.header('cache-control', `public, max-age=${jwksMaxAge}`)
    reply.type('application/jwk-set+json')
    return gatehouse.keys.jwks()
  })
}
