// The floor: the least work a correct client_credentials token endpoint can do (form parse, hashed secret
// check, one async signature). Gatehouse's distance from this is the cost of everything else it does.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { announceListening, createSecretCheck, parseBasicAuth, readChildConfig } from './env.ts'
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

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/.well-known/jwks.json') return send(res, 200, jwksBody)
  if (req.method !== 'POST' || req.url !== '/oauth/token') return send(res, 404, '{"error":"not_found"}')
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    token(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: unknown) => {
      console.error(err)
      send(res, 500, '{"error":"server_error"}')
    })
  })
})

server.keepAliveTimeout = 65_000
server.listen(config.port, '127.0.0.1', () => announceListening(config.port))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
