// Peer: @node-oauth/oauth2-server behind a bare node:http server, the way its README wires it without a
// framework. The model is in memory and signs JWTs exactly like the floor, so the difference between the
// two is the library's own request handling.
import type { IncomingMessage, ServerResponse } from 'node:http'
import OAuth2Server from '@node-oauth/oauth2-server'
import { createSecretCheck, readChildConfig, serveTokenEndpoint } from './env.ts'
import {
  accessTokenClaims,
  BENCH_SCOPE,
  createJwtSigner,
  generateSigningKey,
  publicJwks,
  TOKEN_TTL_SECONDS,
} from './jwt.ts'

const config = readChildConfig()
const key = generateSigningKey(config.alg)
const signJwt = createJwtSigner(key)
const checkSecret = createSecretCheck(config.clientId, config.clientSecret)
const issuer = `http://127.0.0.1:${config.port}`
const jwksBody = JSON.stringify(publicJwks(key))

const client: OAuth2Server.Client = {
  id: config.clientId,
  grants: ['client_credentials'],
  accessTokenLifetime: TOKEN_TTL_SECONDS,
}

const model: OAuth2Server.ClientCredentialsModel = {
  async getClient(clientId: string, clientSecret: string) {
    return checkSecret(clientId, clientSecret) ? client : false
  },
  async getUserFromClient(c: OAuth2Server.Client) {
    // client_credentials has no user; the library insists on a truthy one.
    return { id: c.id }
  },
  async validateScope(_user: OAuth2Server.User, _client: OAuth2Server.Client, scope?: string[]) {
    if (!scope || scope.length === 0) return [BENCH_SCOPE]
    return scope.every((s) => s === BENCH_SCOPE) ? scope : false
  },
  async generateAccessToken(c: OAuth2Server.Client, _user: OAuth2Server.User, scope: string[]) {
    return signJwt(accessTokenClaims(issuer, c.id, scope.join(' ')))
  },
  // Self-contained JWTs need no storage; keeping every issued token would only grow the heap during the run.
  async saveToken(token: OAuth2Server.Token, c: OAuth2Server.Client, user: OAuth2Server.User) {
    return { ...token, client: c, user }
  },
  async getAccessToken() {
    return false
  },
}

const oauth = new OAuth2Server({ model, accessTokenLifetime: TOKEN_TTL_SECONDS })

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}

async function token(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
  const request = new OAuth2Server.Request({
    headers: req.headers as Record<string, string>,
    method: req.method ?? 'POST',
    query: {},
    body: Object.fromEntries(new URLSearchParams(body)),
  })
  const response = new OAuth2Server.Response()
  try {
    await oauth.token(request, response)
  } catch {
    // The library has already put the OAuth error status and body on `response`.
  }
  send(res, response.status ?? 500, JSON.stringify(response.body ?? {}), response.headers ?? {})
}

serveTokenEndpoint(config.port, jwksBody, send, token)
