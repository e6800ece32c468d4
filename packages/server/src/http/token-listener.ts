import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type AuthorizationServer, OAuthError, type TokenRequest, toOAuthError } from '@gatehouse/core'
import type { Logger } from 'pino'
import type { DialectRoute } from '../dialects/description.ts'
import type { TokenDialect } from '../dialects/dialect.ts'
import type { Metrics } from '../metrics.ts'
import { type AccessRoute, TokenAccessLog } from './access-log.ts'
import { type HttpReply, refuseRepeatedHeaders } from './types.ts'

export const BODY_LIMIT = 64 * 1024

// The metric's grant label: a known grant type as its own constant, whose hash V8 keeps.
const KNOWN_GRANTS = new Map(
  ['client_credentials', 'servicekey', 'csp_credentials', 'client_pc_credentials', 'refresh_token'].map(
    (grant) => [grant, grant],
  ),
)
const REQUEST_ID = /^[\w.-]{1,128}$/

interface Endpoint {
  dialect: TokenDialect
  route: DialectRoute
  access: AccessRoute
}

/**
 * The token endpoints' own listener, in front of fastify: the token path is the hot path, so
 * it reads the body, calls parse → token → render and writes the answer directly, with no
 * per-request hook or plugin chain. Every other route goes to fastify.
 */
export class TokenListener {
  // By path, then method: a key joined from the two was a new string to hash on every request.
  private readonly endpoints = new Map<string, Map<string, Endpoint>>()
  private readonly authorizationServer: AuthorizationServer
  private readonly metrics: Metrics
  private readonly logger: Logger
  private readonly accessLog: TokenAccessLog

  constructor(options: {
    dialects: readonly TokenDialect[]
    authorizationServer: AuthorizationServer
    metrics: Metrics
    logger: Logger
  }) {
    for (const dialect of options.dialects) {
      for (const route of dialect.routes) {
        const byMethod = this.endpoints.get(route.path) ?? new Map<string, Endpoint>()
        const access = { method: route.method, path: route.path, endpoint: dialect.name }
        byMethod.set(route.method, { dialect, route, access })
        this.endpoints.set(route.path, byMethod)
      }
    }
    this.authorizationServer = options.authorizationServer
    this.metrics = options.metrics
    this.logger = options.logger
    this.accessLog = new TokenAccessLog(options.logger)
  }

  /** Writes out the access lines that wait for their batch. */
  flushLog(): void {
    this.accessLog.flush()
  }

  /** Handles the request and answers true when it is for a token endpoint. */
  dispatch(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/'
    const query = url.indexOf('?')
    const byMethod = this.endpoints.get(query === -1 ? url : url.slice(0, query))
    if (!byMethod) return false
    const endpoint = byMethod.get(req.method ?? '')
    if (!endpoint) {
      refuseMethod(byMethod, req, res)
      return true
    }
    const started = performance.now()
    const given = req.headers['x-request-id']
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    readBody(req, BODY_LIMIT, (body) =>
      this.answer(endpoint, req, res, id, started, body).catch((error: unknown) =>
        this.logger.error({ reqId: id, err: error }, 'token answer failed'),
      ),
    )
    return true
  }

  private async answer(
    { dialect, route, access }: Endpoint,
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    started: number,
    body: Buffer | OAuthError,
  ): Promise<void> {
    const remoteAddress = req.socket.remoteAddress ?? ''
    let parsed: TokenRequest | undefined
    let outcome = 'success'
    let answer: HttpReply
    try {
      if (!Buffer.isBuffer(body)) throw body
      refuseRepeatedHeaders(req.rawHeaders)
      parsed = dialect.parse({ method: route.method, headers: req.headers, body, remoteAddress }, route)
      answer = dialect.render(await this.authorizationServer.token(parsed))
    } catch (thrown) {
      const error = toOAuthError(thrown)
      outcome = error.code
      if (error.code === 'server_error' || error.code === 'temporarily_unavailable') {
        this.logger.error({ reqId: id, err: error.cause ?? error }, 'token request failed')
      }
      answer = dialect.renderError(error, parsed?.credentials)
    }
    write(res, id, answer)
    const milliseconds = performance.now() - started
    const grant = (parsed?.grantType && KNOWN_GRANTS.get(parsed.grantType)) || 'other'
    this.metrics.recordToken(dialect.name, grant, outcome, milliseconds / 1000)
    this.accessLog.write({
      id,
      route: access,
      remoteAddress,
      statusCode: answer.status,
      outcome,
      responseTime: milliseconds,
    })
  }
}

/** A token endpoint asked with another method: 405, with the methods it takes, in its own format. */
function refuseMethod(byMethod: Map<string, Endpoint>, req: IncomingMessage, res: ServerResponse): void {
  const allowed = [...byMethod.keys()]
  const { dialect } = byMethod.values().next().value!
  const error = new OAuthError('invalid_request', `This endpoint takes ${allowed.join(' or ')}.`, {
    status: 405,
  })
  const answer = dialect.renderError(error)
  req.resume()
  write(res, randomUUID(), { ...answer, headers: { ...answer.headers, allow: allowed.join(', ') } })
}

/** The one writer of token answers: they are credentials, so nothing may cache them. */
function write(res: ServerResponse, id: string, answer: HttpReply): void {
  const text = answer.json
  // A flat list: node:http takes it as is, where an object would be copied and walked.
  const headers = [
    'content-type',
    'application/json; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(text)),
    'cache-control',
    'no-store',
    'pragma',
    'no-cache',
    'x-request-id',
    id,
  ]
  if (answer.headers) for (const name in answer.headers) headers.push(name, answer.headers[name]!)
  res.writeHead(answer.status, headers)
  res.end(text)
}

/**
 * Reads the body up to `limit` bytes and hands it on, or the 413 (in the endpoint's format)
 * that a larger one gets.
 */
function readBody(req: IncomingMessage, limit: number, then: (body: Buffer | OAuthError) => void): void {
  const tooLarge = () =>
    new OAuthError('invalid_request', `The request body exceeds ${limit} bytes.`, { status: 413 })
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume()
    then(tooLarge())
    return
  }
  // Token requests are small: nearly always one chunk, handed on as it came.
  const chunks: Buffer[] = []
  let size = 0
  let done = false
  const finish = (body: Buffer | OAuthError) => {
    if (done) return
    done = true
    then(body)
  }
  req.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > limit) {
      req.removeAllListeners('data')
      req.resume()
      finish(tooLarge())
    } else chunks.push(chunk)
  })
  req.on('end', () => finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)))
  req.on('error', () => finish(new OAuthError('invalid_request', 'The request body could not be read.')))
}
