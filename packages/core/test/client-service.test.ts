import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { ClientService, ManualClock, MasterKeyCipher, MemoryStore } from '../src/index.ts'

test('two changes to one client at once both take effect: neither is lost to the other', async () => {
  const clock = new ManualClock()
  const store = new MemoryStore({ clock })
  const service = new ClientService({
    store,
    cipher: new MasterKeyCipher(randomBytes(32)),
    clock,
    maxTtl: 3600,
  })
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
