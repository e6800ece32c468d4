import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { VerifyError } from '../errors.ts'
import { scopeList } from '../options.ts'
import type { VerifiedToken } from '../verified-token.ts'
import type { Verifier } from '../verifier.ts'
import { refusal } from './refusal.ts'

export interface BearerAuthOptions {
  /** Scopes the routes behind this middleware require, all of them (space-separated or a list). */
  scope?: string | readonly string[]
}

/** A request that passed `bearerAuth`: `auth` holds the verified token. */
export type AuthenticatedRequest = IncomingMessage & { auth: VerifiedToken }

/** What the middleware reads and writes on a request: express, connect and node:http all fit. */
export interface BearerRequest {
  headers: IncomingHttpHeaders
  auth?: VerifiedToken
}

export type BearerResponse = Pick<ServerResponse, 'headersSent' | 'writeHead' | 'end'>

/**
 * Connect-style middleware (express, connect, or bare `node:http` with your own `next`): checks
 * the request's bearer token, sets `req.auth` and calls `next()`. A refused request is answered
 * here (400, 401, 403 or 503, a JSON body `{error, error_description}` and the RFC 6750
 * `WWW-Authenticate` challenge) and `next` is not called; an unexpected fault goes to
 * `next(error)`.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { bearerAuth, createVerifier, type AuthenticatedRequest } from '@gatehouse/verify'
 *
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'https://api.example.com/prices' })
 * const app = express()
 * app.get('/prices', bearerAuth(verifier, { scope: 'prices.read' }), (req, res) => {
 *   res.json({ client: (req as AuthenticatedRequest).auth.clientId })
 * })
 * ```
 */
export function bearerAuth(
  verifier: Verifier,
  options: BearerAuthOptions = {},
): (req: BearerRequest, res: BearerResponse, next: (error?: unknown) => void) => Promise<void> {
  // Normalised once, not per request.
  const verifyOptions = { scope: scopeList(options.scope) }
  const realm = verifier.realm
  return async function bearerAuthMiddleware(req, res, next) {
    let auth: VerifiedToken
    try {
      auth = await verifier.authenticate(req.headers.authorization, verifyOptions)
    } catch (error) {
      if (!(error instanceof VerifyError) || res.headersSent) return next(error)
      const answer = refusal(error, realm)
      res.writeHead(answer.status, answer.headers)
      res.end(answer.body)
      return
    }
    req.auth = auth
    next()
  }
}
