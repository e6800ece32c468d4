import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { type Config, type Gatehouse, OAuthError, type Store } from '@gatehouse/core'
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { TokenDialect } from './dialects/dialect.ts'
import { createDialect } from './dialects/engine.ts'
import { enabledDialects } from './dialects/index.ts'
import { oauth2Dialect } from './dialects/oauth2/oauth2.ts'
import { BODY_LIMIT, TokenListener } from './http/token-listener.ts'
import { AccessLog } from './logger.ts'
import type { Metrics } from './metrics.ts'
import { mountDiscovery } from './routes/discovery.ts'
import { mountHealth } from './routes/health.ts'
import { mountTokenManagement, writeTokenReply } from './routes/token-management.ts'

export interface AppDeps {
  config: Config
  issuer: string
  gatehouse: Gatehouse
  store: Store
  metrics: Metrics
  logger: Logger
}

/**
 * How long a client may take to send a request: its headers, then all of it (bodies are at most
 * 64 KiB), checked every few seconds. Node's own limits, 60 s and 300 s checked every 30 s, let
 * a client that stops sending hold a connection for minutes, and fastify's timeout options do
 * not reach a server it did not create.
 */
const CONNECTION_LIMITS = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  connectionsCheckingInterval: 5_000,
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const dialects = enabledDialects(deps.config)
  const tokens = new TokenListener({
    dialects,
    authorizationServer: deps.gatehouse.authorizationServer,
    metrics: deps.metrics,
    logger: deps.logger,
  })
  const app: FastifyInstance = Fastify({
    // Token requests are answered before fastify sees them; everything else is fastify's.
    serverFactory: (handler) =>
      createServer(CONNECTION_LIMITS, (req, res) => tokens.dispatch(req, res) || handler(req, res)),
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID()
    },
    trustProxy: false,
    logController: new AccessLog(),
    clientErrorHandler: answerClientError,
  })

  // Bodies are read raw (up to the limit) and handed to the dialect, which checks the content
  // type itself: a wrong content type is a 400 in the endpoint's own format, not a bare 415.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) =>
    done(null, body),
  )

  // Access lines still waiting for the end of their event-loop turn go out before the logger closes.
  app.addHook('onClose', async () => tokens.flushLog())

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  const oauth2 = dialects.find((d) => d.name === 'oauth2')
  mountTokenManagement(app, {
    ...deps,
    errors: oauth2 ?? createDialect(oauth2Dialect(deps.config.endpoints.oauth2)),
  })
  mountDiscovery(app, { ...deps, oauth2 })
  mountHealth(app, deps)

  // Errors raised before a handler runs (body too large, unreadable body) are answered in
  // the format of the endpoint that was asked.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const dialect = (request.routeOptions.config as { dialect?: TokenDialect } | undefined)?.dialect
    // A Content-Type that cannot be read is a malformed request, as at the token endpoints: 400.
    const status =
      error.statusCode === 415
        ? 400
        : error.statusCode && error.statusCode >= 400 && error.statusCode < 500
          ? error.statusCode
          : 500
    if (status === 500) request.log.error({ err: error }, 'unhandled error')
    const oauthError =
      status === 413
        ? new OAuthError('invalid_request', `The request body exceeds ${BODY_LIMIT} bytes.`, { status: 413 })
        : status === 500
          ? new OAuthError('server_error', 'The server encountered an unexpected condition.')
          : new OAuthError('invalid_request', 'The request could not be read.', { status })
    if (dialect) return writeTokenReply(reply, dialect.renderError(oauthError))
    return reply.code(status).send({ error: oauthError.code, error_description: oauthError.description })
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: 'not_found',
      error_description: `No route for ${request.method} ${request.url.split('?')[0]}.`,
    }),
  )
  return app
}

/**
 * A request that is not HTTP, or that did not arrive in time, has no endpoint to take a format
 * from: it gets RFC 6749's error shape, on a connection that is then closed.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  if (!socket.writable) {
    socket.destroy(error)
    return
  }
  const [status, description] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['408 Request Timeout', 'The request did not arrive in time.']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? ['431 Request Header Fields Too Large', 'The request headers are too large.']
        : ['400 Bad Request', 'The request is not valid HTTP.']
  const body = JSON.stringify({ error: 'invalid_request', error_description: description })
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  )
}
