import { join } from 'node:path'
import type { Config, Store } from '@gatehouse/core'
import { guardStore } from './guard.ts'
import { isSqliteUnavailable } from './sqlite/errors.ts'
import { SqliteStore } from './sqlite/sqlite-store.ts'

/** The one place that picks a concrete store from configuration. */
export function openStore(config: Config): Store {
  if (config.databaseUrl) {
    throw new Error(
      '--database-url (PostgreSQL) is not available in this version; use --data for the embedded SQLite store',
    )
  }
  return guardStore(new SqliteStore(join(config.dataDir, 'gatehouse.db')), isSqliteUnavailable)
}
