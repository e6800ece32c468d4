import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../config.ts'
import type { Command } from './command.ts'
import { applyServingV8Flags } from './v8-flags.ts'

export const serveCommand: Command = {
  usage:
    'serve [--port 8080] [--host 127.0.0.1] [--data ./data] [--database-url URL] [--redis-url URL] [--issuer URL] [--config FILE]',
  summary: 'run the authorization server',
  positionals: 0,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    data: { type: 'string' },
    'database-url': { type: 'string' },
    'redis-url': { type: 'string' },
    issuer: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, output) {
    applyServingV8Flags()
    const config = loadConfig({
      port: values.port as string | undefined,
      host: values.host as string | undefined,
      data: values.data as string | undefined,
      databaseUrl: values['database-url'] as string | undefined,
      redisUrl: values['redis-url'] as string | undefined,
      issuer: values.issuer as string | undefined,
      config: values.config as string | undefined,
    })
    const dataDirExisted = existsSync(config.dataDir)
    // Loaded here so that admin commands do not pay for the HTTP stack at start-up.
    const { startServer } = await import('../server.ts')
    const server = await startServer(config)
    const created: string[] = []
    if (!dataDirExisted && !config.databaseUrl) created.push(`data directory ${config.dataDir}`)
    if (server.masterKey.source === 'created')
      created.push(`master key ${server.masterKey.path} (back it up: it seals the signing keys)`)
    if (server.gatehouse.createdKey)
      created.push(`signing key ${server.gatehouse.createdKey.kid} (${server.gatehouse.createdKey.alg})`)
    output.note(
      [
        `Gatehouse listening on ${server.url}`,
        `  issuer   ${server.issuer}`,
        `  storage  ${config.databaseUrl ? 'PostgreSQL' : `SQLite at ${join(config.dataDir, 'gatehouse.db')}`}`,
        ...(created.length > 0 ? [`  created  ${created.join('\n           ')}`] : []),
      ].join('\n'),
    )
    let stopping = false
    const stop = async (signal: string) => {
      if (stopping) return
      stopping = true
      server.logger.info({ signal }, 'shutting down')
      await server.close()
      process.exit(0)
    }
    process.once('SIGINT', () => void stop('SIGINT'))
    process.once('SIGTERM', () => void stop('SIGTERM'))
    // The server runs until a signal arrives.
    await new Promise(() => {})
  },
}
