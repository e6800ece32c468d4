import { type AuthorizationServer, type OAuthError, type TokenRequest, toOAuthError } from '@gatehouse/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { DialectRoute } from '../dialects/description.ts'
import type { TokenDialect } from '../dialects/dialect.ts'
import type { HttpInput, HttpReply } from '../http/types.ts'
import type { Metrics } from '../metrics.ts'

const KNOWN_GRANTS = new Set([
  'client_credentials',
  'servicekey',
  'csp_credentials',
  'client_pc_credentials',
  'refresh_token',
])

/** Mounts one dialect's routes: parse, decide, render, write — direct calls, no middleware chain. */
export function mountDialect(
  app: FastifyInstance,
  dialect: TokenDialect,
  deps: { authorizationServer: AuthorizationServer; metrics: Metrics },
): void {
  const handler = (route: DialectRoute) => async (request: FastifyRequest, reply: FastifyReply) => {
    const started = process.hrtime.bigint()
    let parsed: TokenRequest | undefined
    let outcome = 'success'
    let answer: HttpReply
    try {
      parsed = dialect.parse(toHttpInput(request), route)
      answer = dialect.render(await deps.authorizationServer.token(parsed))
    } catch (thrown) {
      const error = toOAuthError(thrown)
      logFailure(request, error)
      outcome = error.code
      answer = dialect.renderError(error, parsed?.credentials)
    }
    const grant = parsed?.grantType && KNOWN_GRANTS.has(parsed.grantType) ? parsed.grantType : 'other'
    deps.metrics.tokenRequests.inc({ endpoint: dialect.name, grant_type: grant, outcome })
    deps.metrics.tokenLatency.observe(
      { endpoint: dialect.name },
      Number(process.hrtime.bigint() - started) / 1e9,
    )
    return writeTokenReply(reply, answer)
  }
  for (const route of dialect.routes) {
    app.route({ method: route.method, url: route.path, handler: handler(route), config: { dialect } })
  }
}

/** The one writer of token answers: they are credentials, so nothing may cache them. */
export function writeTokenReply(reply: FastifyReply, answer: HttpReply): FastifyReply {
  reply.code(answer.status)
  reply.header('cache-control', 'no-store')
  reply.header('pragma', 'no-cache')
  for (const [name, value] of Object.entries(answer.headers ?? {})) reply.header(name, value)
  return reply.send(answer.body)
}

function toHttpInput(request: FastifyRequest): HttpInput {
  return {
    method: request.method,
    headers: request.headers,
    body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    remoteAddress: request.ip,
  }
}

function logFailure(request: FastifyRequest, error: OAuthError): void {
  if (error.code === 'server_error' || error.code === 'temporarily_unavailable') {
    request.log.error({ err: error.cause ?? error }, 'token request failed')
  } else {
    request.log.info({ error: error.code }, 'token request refused')
  }
}
