import type { Config, Gatehouse } from '@gatehouse/core'
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
  const metadata = () => ({
    issuer,
    ...(deps.oauth2 ? { token_endpoint: `${issuer}${deps.oauth2.routes[0]!.path}` } : {}),
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    grant_types_supported: deps.oauth2?.grants ?? [],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    // Machine-to-machine only: no authorization endpoint, so no response types.
    response_types_supported: [],
    access_token_signing_alg_values_supported: [config.tokens.algorithm],
    id_token_signing_alg_values_supported: [config.tokens.algorithm],
    subject_types_supported: ['public'],
    service_documentation: 'https://github.com/gatehouse/gatehouse#readme',
  })
  const jwksMaxAge = Math.max(0, Math.min(300, Math.floor(config.keys.leadTime / 2)))

  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    app.get(path, async (_request, reply) => {
      reply.header('access-control-allow-origin', '*')
      reply.header('cache-control', 'public, max-age=300')
      return metadata()
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
