import {
  ApiService,
  type ChildRecord,
  ClientService,
  type Config,
  CredentialService,
  KeyManager,
  MasterKeyCipher,
  type ServiceKeyRecord,
  type Store,
  systemClock,
} from '@gatehouse/core'
import { loadConfig } from '../config.ts'
import { loadMasterKey, withMasterKey } from '../master-key.ts'
import { openStore } from '../stores/open-store.ts'

export interface StorageFlags {
  data?: string
  'database-url'?: string
  config?: string
}

/** What an admin command works with: the same storage and master key a server would use. */
export interface AdminContext {
  config: Config
  store: Store
  clients: ClientService
  apis: ApiService
  serviceKeys: {
    create(input: {
      clientId: string
      serviceName: string
      scopes?: string[]
    }): Promise<{ record: ServiceKeyRecord; serviceKey: string }>
    delete(clientId: string, serviceName: string): Promise<void>
  }
  children: {
    create(input: { clientId: string; name: string }): Promise<{ record: ChildRecord; childSecret: string }>
    setEnabled(childKey: string, enabled: boolean): Promise<ChildRecord>
  }
  keys: KeyManager
  close(): Promise<void>
}

/**
 * Opens the storage and master key as a server would, and checks that the key opens the stored
 * signing keys: a command run with another key would seal what no server could open. Only the
 * replacement of a lost master key (`keys rotate --now --lost-master-key`) goes without.
 */
export async function openAdmin(flags: StorageFlags, { checkMasterKey = true } = {}): Promise<AdminContext> {
  const config = loadConfig({ data: flags.data, databaseUrl: flags['database-url'], config: flags.config })
  const masterKey = loadMasterKey(config.dataDir)
  const cipher = new MasterKeyCipher(masterKey.key)
  const store = openStore(config)
  const clock = systemClock
  const credentials = new CredentialService({ store, clock })
  const keys = new KeyManager({
    store,
    cipher,
    clock,
    algorithm: config.tokens.algorithm,
    leadTime: config.keys.leadTime,
  })
  try {
    if (checkMasterKey) await withMasterKey(masterKey, () => keys.checkMasterKey())
  } catch (error) {
    await store.close()
    throw error
  }
  return {
    config,
    store,
    clients: new ClientService({ store, cipher, clock, maxTtl: config.tokens.maxTtl }),
    apis: new ApiService({ store, clock }),
    serviceKeys: {
      create: (input) => credentials.createServiceKey(input),
      delete: (clientId, serviceName) => credentials.deleteServiceKey(clientId, serviceName),
    },
    children: {
      create: (input) => credentials.createChild(input),
      setEnabled: (childKey, enabled) => credentials.setChildEnabled(childKey, enabled),
    },
    keys,
    close: () => store.close(),
  }
}
