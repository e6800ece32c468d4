import type { IncomingHttpHeaders } from 'node:http'
import { VerifyError } from '../errors.ts'
import { scopeList } from '../options.ts'
import type { VerifiedToken } from '../verified-token.ts'
import type { Verifier } from '../verifier.ts'
import type { BearerAuthOptions } from './connect.ts'
import { refusal } from './refusal.ts'

/** The parts of a fastify request the hook uses (structural: no fastify import at run time). */
export interface FastifyRequestLike {
  headers: IncomingHttpHeaders
  auth?: VerifiedToken
}

/** The parts of a fastify reply the hook uses. */
export interface FastifyReplyLike {
  code(statusCode: number): FastifyReplyLike
  headers(values: Record<string, string>): FastifyReplyLike
  send(payload?: unknown): FastifyReplyLike
}

/**
 * A fastify `onRequest` (or `preHandler`) hook: checks the bearer token and sets `request.auth`,
 * or answers the refusal itself (400, 401, 403 or 503, JSON `{error, error_description}`, the
 * RFC 6750 `WWW-Authenticate` challenge). Declare `auth` on `FastifyRequest` for typed access, and
 * `decorateRequest('auth', null)` keeps the request objects of one shape.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { createVerifier, fastifyBearerAuth, type VerifiedToken } from '@gatehouse/verify'
 *
 * declare module 'fastify' {
 *   interface FastifyRequest { auth?: VerifiedToken }
 * }
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'https://api.example.com/prices' })
 * const app = Fastify()
 * app.decorateRequest('auth', null)
 * app.get('/prices', { onRequest: fastifyBearerAuth(verifier, { scope: 'prices.read' }) }, async (request) => ({
 *   client: request.auth?.clientId,
 * }))
 * ```
 */
export function fastifyBearerAuth(
  verifier: Verifier,
  options: BearerAuthOptions = {},
): (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown> {
  const verifyOptions = { scope: scopeList(options.scope) }
  const realm = verifier.realm
  return async function bearerAuthHook(request, reply) {
    try {
      request.auth = await verifier.authenticate(request.headers.authorization, verifyOptions)
    } catch (error) {
      if (!(error instanceof VerifyError)) throw error
      const answer = refusal(error, realm)
      // An async hook that answers returns the reply, so fastify stops the request here.
      return reply.code(answer.status).headers(answer.headers).send(answer.body)
    }
    return undefined
  }
}
