import type { AddressInfo } from 'node:net'
import {
  type Clock,
  type Config,
  type Gatehouse,
  MasterKeyCipher,
  type Store,
  startGatehouse,
  systemClock,
} from '@gatehouse/core'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { buildApp } from './app.ts'
import { issuerOf } from './config.ts'
import { createLogger } from './logger.ts'
import { loadMasterKey, type MasterKey, withMasterKey } from './master-key.ts'
import { Metrics } from './metrics.ts'
import { openStore } from './stores/open-store.ts'

export interface RunningServer {
  url: string
  issuer: string
  app: FastifyInstance
  gatehouse: Gatehouse
  store: Store
  masterKey: MasterKey
  logger: Logger
  close(): Promise<void>
}

/**
 * Starts a server: storage, master key, keys, HTTP. With `port: 0` the issuer follows the
 * port the system picked, so tests can run servers side by side.
 */
export async function startServer(
  config: Config,
  options: { clock?: Clock; logDestination?: NodeJS.WritableStream } = {},
): Promise<RunningServer> {
  const logger = createLogger(config.logLevel, options.logDestination)
  const masterKey = loadMasterKey(config.dataDir)
  const store = openStore(config, { warn: (message) => logger.warn(message) })
  // What has started so far, stopped in reverse if a later step fails: a store's checkpoint
  // thread or a gatehouse's signing threads and timers would keep a failed `serve` from exiting.
  let gatehouse: Gatehouse | undefined
  let app: FastifyInstance | undefined
  const close = async () => {
    await app?.close()
    await gatehouse?.stop()
    await store.close()
    logger.flush()
  }
  try {
    let issuer = issuerOf(config)
    // A zero port is resolved by listening first; the issuer must be known before tokens are
    // signed, so bind, then build the app on the bound port.
    const probe = config.port === 0 && !config.issuer ? await reservePort(config.host) : undefined
    if (probe !== undefined) {
      config = { ...config, port: probe }
      issuer = issuerOf(config)
    }
    gatehouse = await withMasterKey(masterKey, () =>
      startGatehouse({
        config,
        issuer,
        store,
        cipher: new MasterKeyCipher(masterKey.key),
        clock: options.clock ?? systemClock,
        onBackgroundError: (error) => logger.error({ err: error }, 'background refresh failed'),
      }),
    )
    const metrics = new Metrics()
    app = buildApp({ config, issuer, gatehouse, store, metrics, logger })
    await app.listen({ host: config.host, port: config.port })
    const address = app.server.address() as AddressInfo
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return {
      url: `http://${host}:${address.port}`,
      issuer,
      app,
      gatehouse,
      store,
      masterKey,
      logger,
      close,
    }
  } catch (error) {
    await close().catch(() => {})
    throw error
  }
}

async function reservePort(host: string): Promise<number> {
  const { createServer } = await import('node:net')
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}
