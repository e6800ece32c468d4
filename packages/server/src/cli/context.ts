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
import { loadMasterKey } from '../master-key.ts'
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
  }
  children: {
    create(input: { clientId: string; name: string }): Promise<{ record: ChildRecord; childSecret: string }>
    setEnabled(childKey: string, enabled: boolean): Promise<ChildRecord>
  }
  keys: KeyManager
  close(): Promise<void>
}

export function openAdmin(flags: StorageFlags): AdminContext {
  const config = loadConfig({ data: flags.data, databaseUrl: flags['database-url'], config: flags.config })
  const cipher = new MasterKeyCipher(loadMasterKey(config.dataDir).key)
  const store = openStore(config)
  const clock = systemClock
  const credentials = new CredentialService({ store, clock })
  return {
    config,
    store,
    clients: new ClientService({ store, cipher, clock, maxTtl: config.tokens.maxTtl }),
    apis: new ApiService({ store, clock }),
    serviceKeys: { create: (input) => credentials.createServiceKey(input) },
    children: {
      create: (input) => credentials.createChild(input),
      setEnabled: (childKey, enabled) => credentials.setChildEnabled(childKey, enabled),
    },
    keys: new KeyManager({
      store,
      cipher,
      clock,
      algorithm: config.tokens.algorithm,
      leadTime: config.keys.leadTime,
    }),
    close: () => store.close(),
  }
}
