import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { storeContract } from '@gatehouse/core/testing'
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.ts'

storeContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-sqlite-'))
  return {
    store: new SqliteStore(join(dir, 'gatehouse.db')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
})
