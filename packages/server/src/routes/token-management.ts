import {
  type ClientCredentials,
  type Config,
  type Gatehouse,
  OAuthError,
  toOAuthError,
} from '@gatehouse/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TokenDialect } from '../dialects/dialect.ts'
import { credentialsOf } from '../dialects/engine.ts'
import { rfc6749Credentials } from '../dialects/rfc6749.ts'
import { optional, parseForm } from '../http/form.ts'
import { type HttpReply, refuseRepeatedHeaders } from '../http/types.ts'
import type { Metrics } from '../metrics.ts'

/**
 * Introspection (RFC 7662) and revocation (RFC 7009): form bodies, the token endpoint's
 * client authentication, RFC 6749 errors rendered by the standard dialect.
 */
export function mountTokenManagement(
  app: FastifyInstance,
  deps: { config: Config; gatehouse: Gatehouse; metrics: Metrics; errors: TokenDialect },
): void {
  const { introspection, revocation } = deps.config.endpoints
  const { authorizationServer, inspector } = deps.gatehouse

  const endpoint =
    (
      name: string,
      action: (
        form: Record<string, string>,
        credentials: ClientCredentials | undefined,
        ip: string,
      ) => Promise<HttpReply>,
    ) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      let credentials: ClientCredentials | undefined
      let outcome = 'success'
      let answer: HttpReply
      try {
        const http = {
          method: request.method,
          headers: request.headers,
          body: bodyOf(request),
          remoteAddress: request.ip,
        }
        refuseRepeatedHeaders(request.raw.rawHeaders)
        const form = parseForm(http)
        credentials = credentialsOf(
          rfc6749Credentials,
          form,
          http.headers.authorization as string | undefined,
          false,
        )
        answer = await action(form, credentials, request.ip)
      } catch (thrown) {
        const error = toOAuthError(thrown)
        if (error.code === 'server_error') request.log.error({ err: error.cause ?? error }, `${name} failed`)
        outcome = error.code
        answer = deps.errors.renderError(error, credentials)
      }
      deps.metrics.tokenRequests.inc({ endpoint: name, grant_type: 'none', outcome })
      return writeTokenReply(reply, answer)
    }

  if (introspection.enabled) {
    app.post(
      introspection.path,
      { config: { dialect: deps.errors } },
      endpoint('introspection', async (form, credentials, ip) => {
        const token = requiredToken(form)
        const client = await authorizationServer.authenticate(credentials, ip)
        return { status: 200, json: JSON.stringify(await inspector.introspect(client, token)) }
      }),
    )
  }
  if (revocation.enabled) {
    app.post(
      revocation.path,
      { config: { dialect: deps.errors } },
      endpoint('revocation', async (form, credentials, ip) => {
        const token = requiredToken(form)
        const client = await authorizationServer.authenticate(credentials, ip)
        await inspector.revoke(client, token)
        return { status: 200, json: '{}' }
      }),
    )
  }
}

function requiredToken(form: Record<string, string>): string {
  const token = optional(form, 'token')
  if (token === undefined) throw new OAuthError('invalid_request', 'The token parameter is required.')
  return token
}

function bodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
}

/** Answers of the fastify-served token-management routes carry credentials' data: nothing may cache them. */
export function writeTokenReply(reply: FastifyReply, answer: HttpReply): FastifyReply {
  reply.code(answer.status)
  reply.header('cache-control', 'no-store')
  reply.header('pragma', 'no-cache')
  for (const [name, value] of Object.entries(answer.headers ?? {})) reply.header(name, value)
  return reply.type('application/json; charset=utf-8').send(answer.json)
}
