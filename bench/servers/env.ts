// What every peer/floor child reads from its environment; the driver sets all of it.
import { createHash, timingSafeEqual } from 'node:crypto'
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
