import { MemoryStore } from '../src/index.ts'
import { storeContract } from '../src/storage/contract.ts'

storeContract('memory', async () => ({ store: new MemoryStore(), cleanup: async () => {} }))
