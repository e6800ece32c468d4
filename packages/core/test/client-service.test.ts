import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import {
  type ClientRecord,
  ClientService,
  CredentialService,
  ManualClock,
  MasterKeyCipher,
  MemoryStore,
} from '../src/index.ts'

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

test('a name with a control character is refused, for a client and for a child; any other text is taken', async () => {
  const clock = new ManualClock()
  const store = new MemoryStore({ clock })
  const service = serviceOn(store, clock)
  const children = new CredentialService({ store, clock })
  const { client } = await service.create({ name: 'parent', grants: ['csp_credentials'] })
  // An ANSI colour, a line break, a tab, DEL and the one-character CSI of C1.
  for (const name of ['evil\u001b[31mred', 'two\nlines', 'a\tb', 'del\u007f', 'csi\u009b2J']) {
    await assert.rejects(service.create({ name }), /control character/, JSON.stringify(name))
    await assert.rejects(children.createChild({ clientId: client.clientId, name }), /control character/)
  }
  for (const name of ['Müller & Söhne GmbH', '株式会社', 'rocket 🚀', '  trimmed  ']) {
    assert.equal((await service.create({ name })).client.name, name.trim())
  }
})
