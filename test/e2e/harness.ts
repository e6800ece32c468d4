import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { type ConfigInput, type CreateClientInput, parseConfig } from '@gatehouse/core'
import { type RunningServer, startServer } from '@gatehouse/server'
import { type AdminContext, openAdmin } from '../../packages/server/src/cli/context.ts'

/** A real server on a free loopback port, with its own data directory and captured logs. */
export interface TestServer extends RunningServer {
  dataDir: string
  logs: string[]
  admin: AdminContext
  /** POSTs a form to `path`; `auth` is [id, secret] for HTTP Basic. */
  form(
    path: string,
    fields: Record<string, string> | string,
    options?: { auth?: [string, string]; headers?: Record<string, string> },
  ): Promise<Response>
  createClient(input?: Partial<CreateClientInput>): Promise<{ id: string; secret: string }>
  stop(options?: { keepData?: boolean }): Promise<void>
}

export async function startTestServer(config: ConfigInput = {}, dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'gatehouse-e2e-')))
  const logs: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean))
      done()
    },
  })
  const full = parseConfig({ port: 0, logLevel: 'info', changePollInterval: 50, ...config, dataDir: dir })
  const server = await startServer(full, { logDestination: sink })
  const admin = await openAdmin({ data: dir })
  return {
    ...server,
    dataDir: dir,
    logs,
    admin,
    form(path, fields, options = {}) {
      const headers: Record<string, string> = {
        'content-type': 'application/x-www-form-urlencoded',
        ...options.headers,
      }
      if (options.auth) headers.authorization = basic(...options.auth)
      const body = typeof fields === 'string' ? fields : new URLSearchParams(fields).toString()
      return fetch(`${server.url}${path}`, { method: 'POST', headers, body })
    },
    async createClient(input = {}) {
      const { client, secret } = await admin.clients.create({
        name: 'test client',
        scopes: ['prices.read'],
        ...input,
      })
      return { id: client.clientId, secret: secret ?? '' }
    },
    async stop(options = {}) {
      await admin.close()
      await server.close()
      if (!options.keepData) await rm(dir, { recursive: true, force: true })
    },
  }
}

/** RFC 6749 §2.3.1 Basic credentials: each part form-urlencoded, then base64. */
export function basic(id: string, secret: string): string {
  const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`
}

export function decodeJwtPart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8'))
}

/** A response body as JSON, typed loosely: tests assert on its fields one by one. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON answers
export async function json(response: Response): Promise<any> {
  return response.json()
}
