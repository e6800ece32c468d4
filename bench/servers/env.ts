// What every peer/floor child reads from its environment; the driver sets all of it.
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { type Alg, parseAlg } from './jwt.ts'

export interface ChildConfig {
  alg: Alg
  port: number
  clientId: string
  clientSecret: string
}

export function readChildConfig(): ChildConfig {
  const port = Number(process.env.BENCH_PORT ?? process.argv[2])
  if (!Number.isInteger(port) || port <= 0) throw new Error('BENCH_PORT (or argv[2]) must be a port number')
  const clientId = process.env.BENCH_CLIENT_ID
  const clientSecret = process.env.BENCH_CLIENT_SECRET
  if (!clientId || !clientSecret) throw new Error('BENCH_CLIENT_ID and BENCH_CLIENT_SECRET must be set')
  return { alg: parseAlg(process.env.BENCH_ALG), port, clientId, clientSecret }
}

// Storing only a hash of the secret is what a real server does; SHA-256 is the cheapest honest version of that.
export function createSecretCheck(clientId: string, clientSecret: string) {
  const expected = createHash('sha256').update(clientSecret).digest()
  return (id: string, secret: string): boolean => {
    const presented = createHash('sha256').update(secret).digest()
    return timingSafeEqual(presented, expected) && id === clientId
  }
}

// RFC 6749 §2.3.1: id and secret are form-urlencoded before being put in the Basic header.
export function parseBasicAuth(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header || header.length < 7 || header.slice(0, 6).toLowerCase() !== 'basic ') return undefined
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  try {
    const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '))
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) }
  } catch {
    return undefined
  }
}

export function announceListening(port: number): void {
  process.stdout.write(`listening ${port}\n`)
}

type Send = (res: ServerResponse, status: number, body: string) => void
type Token = (req: IncomingMessage, res: ServerResponse, body: string) => Promise<void>

/**
 * The bare node:http server the floor and the oauth2-server peer share, so both pay the same
 * routing and body reading: the JWKS on GET, the token endpoint on POST, 404 otherwise.
 */
export function serveTokenEndpoint(port: number, jwksBody: string, send: Send, token: Token): void {
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
  server.listen(port, '127.0.0.1', () => announceListening(port))
  process.on('SIGTERM', () => server.close(() => process.exit(0)))
}
