// The floor: the least work a correct client_credentials token endpoint can do (form parse, hashed secret
// check, one async signature). Gatehouse's distance from this is the cost of everything else it does.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createSecretCheck, parseBasicAuth, readChildConfig, serveTokenEndpoint } from './env.ts'
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
// Only the validity check reads this; it is not on the measured path.
const jwksBody = JSON.stringify(publicJwks(key))

function send(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    ...extra,
  })
  res.end(body)
}

async function token(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    return send(res, 400, '{"error":"invalid_request"}')
  }
  const form = new URLSearchParams(body)
  if (form.get('grant_type') !== 'client_credentials') {
    return send(res, 400, '{"error":"unsupported_grant_type"}')
  }
  const credentials = parseBasicAuth(req.headers.authorization)
  if (!credentials || !checkSecret(credentials.id, credentials.secret)) {
    return send(res, 401, '{"error":"invalid_client"}', { 'www-authenticate': 'Basic realm="floor"' })
  }
  const accessToken = await signJwt(accessTokenClaims(issuer, credentials.id, BENCH_SCOPE))
  send(
    res,
    200,
    JSON.stringify({ access_token: accessToken, token_type: 'bearer', expires_in: TOKEN_TTL_SECONDS }),
  )
}

serveTokenEndpoint(config.port, jwksBody, send, token)
