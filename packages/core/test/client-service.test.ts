import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { type ClientRecord, ClientService, ManualClock, MasterKeyCipher, MemoryStore } from '../src/index.ts'

function serviceOn(store: MemoryStore, clock: ManualClock): ClientService {
  return new ClientService({ store, cipher: new MasterKeyCipher(randomBytes(32)), clock, maxTtl: 3600 })
}

test('two changes to one client at once both take effect: neither is lost to the other', async () => {
  const clock = new ManualClock()
  const store = new MemoryStore({ clock })
  const service = serviceOn(store, clock)
  for (let round = 0; round < 5; round++) {
    const { client } = await service.create({ name: `race-${round}` })
    const [, rotated] = await Promise.all([
      service.setEnabled(client.clientId, false),
      service.rotateSecret(client.clientId),
    ])
    const stored = (await store.getClient(client.clientId))!
    assert.equal(stored.enabled, false, `round ${round}: the disable stands`)
    assert.deepEqual(stored.secrets, rotated.client.secrets, `round ${round}: so does the new secret`)
    assert.notDeepEqual(stored.secrets, client.secrets)
  }
})

/** A memory store that notes the size of each page of clients it is asked for. */
class PageCountingStore extends MemoryStore {
  readonly pages: number[] = []

  override async listClients(page: Parameters<MemoryStore['listClients']>[0]) {
    const found = await super.listClients(page)
    this.pages.push(found.length)
    return found
  }
}

test('list reads every client a page at a time, in the order they were created', async () => {
  const clock = new ManualClock()
  const store = new PageCountingStore({ clock })
  const service = serviceOn(store, clock)
  const made: ClientRecord[] = []
  for (let i = 0; i < 7; i++) {
    made.push((await service.create({ name: `client-${i}` })).client)
    // Two a second: within a second, the order is by id.
    if (i % 2 === 1) clock.advance(1000)
  }
  const listed: string[] = []
  for await (const client of service.list(3)) listed.push(client.clientId)
  const byCreation = made
    .sort((a, b) => a.createdAt - b.createdAt || (a.clientId < b.clientId ? -1 : 1))
    .map((c) => c.clientId)
  assert.deepEqual(listed, byCreation)
  assert.deepEqual(store.pages, [3, 3, 1])
})
