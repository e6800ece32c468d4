import { join } from 'node:path'
import type { Config, Store } from '@gatehouse/core'
import { guardStore } from './guard.ts'
import { isSqliteUnavailable } from './sqlite/errors.ts'
import { SqliteStore } from './sqlite/sqlite-store.ts'

/**
 * The one place that picks a concrete store from configuration. A server passes `server`,
 * which gives SQLite its checkpoint thread; a CLI command writes a little and exits.
 */
export function openStore(config: Config, server?: { warn: (message: string) => void }): Store {
  if (config.databaseUrl) {
    throw new Error(
      '--database-url (PostgreSQL) is not available in this version; use --data for the embedded SQLite store',
    )
  }
  // Refused rather than ignored: an operator would take counters and replay keys to be shared.
  if (config.redisUrl) {
    throw new Error(
      '--redis-url (Redis, shared by several instances) is not available in this version; run one instance on the embedded SQLite store',
    )
  }
  const file = join(config.dataDir, 'gatehouse.db')
  const options = server ? { checkpointThread: true, warn: server.warn } : {}
  return guardStore(new SqliteStore(file, options), isSqliteUnavailable)
}
