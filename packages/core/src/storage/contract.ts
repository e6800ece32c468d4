import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { ConflictError } from '../errors.ts'
import type { ClientRecord, SigningKeyRecord } from '../model.ts'
import type { Store } from './port.ts'

/**
 * The storage contract: every store runs this suite (memory, SQLite, PostgreSQL), so what
 * one store does, all do. `open` returns a store on empty storage.
 */
export function storeContract(
  name: string,
  open: () => Promise<{ store: Store; cleanup(): Promise<void> }>,
): void {
  describe(`storage contract: ${name}`, () => {
    let store: Store
    let cleanup: () => Promise<void>
    before(async () => {
      ;({ store, cleanup } = await open())
    })
    after(async () => {
      await store.close()
      await cleanup()
    })

    test('a client round-trips with every field', async () => {
      const client = sampleClient('c-roundtrip')
      await store.insertClient(client)
      assert.deepEqual(await store.getClient('c-roundtrip'), client)
      assert.equal(await store.getClient('nobody'), undefined)
    })

    test('a taken client id is a ConflictError', async () => {
      await store.insertClient(sampleClient('c-dup'))
      await assert.rejects(store.insertClient(sampleClient('c-dup')), ConflictError)
    })

    test('update replaces the record; update and delete of a missing client answer false', async () => {
      const client = sampleClient('c-update')
      await store.insertClient(client)
      const changed: ClientRecord = {
        ...client,
        enabled: false,
        scopes: ['b'],
        secrets: [],
        updatedAt: client.updatedAt + 5,
      }
      assert.equal(await store.updateClient(changed), true)
      assert.deepEqual(await store.getClient('c-update'), changed)
      assert.equal(await store.updateClient(sampleClient('c-missing')), false)
      assert.equal(await store.deleteClient('c-update'), true)
      assert.equal(await store.deleteClient('c-update'), false)
      assert.equal(await store.getClient('c-update'), undefined)
    })

    test('list and count see every client', async () => {
      const before = await store.countClients()
      await store.insertClient(sampleClient('c-list-1'))
      await store.insertClient(sampleClient('c-list-2'))
      assert.equal(await store.countClients(), before + 2)
      const ids = (await store.listClients()).map((c) => c.clientId)
      assert.ok(ids.includes('c-list-1') && ids.includes('c-list-2'))
    })

    test('APIs round-trip; a taken identifier is a ConflictError', async () => {
      const api = {
        identifier: 'https://api.example.com/prices',
        scopes: ['prices.read', 'prices.write'],
        createdAt: 1_700_000_000,
      }
      await store.insertApi(api)
      assert.deepEqual(
        (await store.listApis()).find((a) => a.identifier === api.identifier),
        api,
      )
      await assert.rejects(store.insertApi(api), ConflictError)
    })

    test('signing keys round-trip and retire together', async () => {
      const a = sampleKey('kid-a', 100)
      const b = sampleKey('kid-b', 200)
      await store.insertSigningKey(a)
      await store.insertSigningKey(b)
      const listed = await store.listSigningKeys()
      assert.deepEqual(
        listed.find((k) => k.kid === 'kid-a'),
        a,
      )
      await store.retireSigningKeys(['kid-a', 'kid-b'], 300)
      const retired = await store.listSigningKeys()
      assert.equal(retired.find((k) => k.kid === 'kid-a')?.retiresAt, 300)
      assert.equal(retired.find((k) => k.kid === 'kid-b')?.retiresAt, 300)
      await assert.rejects(store.insertSigningKey(a), ConflictError)
    })

    test('every mutation appears in the change feed, in order', async () => {
      const start = await store.latestChange()
      await store.insertClient(sampleClient('c-feed'))
      await store.updateClient({ ...sampleClient('c-feed'), name: 'renamed' })
      await store.deleteClient('c-feed')
      await store.insertApi({ identifier: 'urn:feed', scopes: ['feed'], createdAt: 1 })
      await store.insertSigningKey(sampleKey('kid-feed', 1))
      await store.retireSigningKeys(['kid-feed'], 2)
      const changes = await store.changesSince(start, 100)
      assert.deepEqual(
        changes.map((c) => `${c.kind}:${c.id}`),
        ['client:c-feed', 'client:c-feed', 'client:c-feed', 'api:urn:feed', 'key:kid-feed', 'key:kid-feed'],
      )
      for (let i = 1; i < changes.length; i++) assert.ok(changes[i]!.seq > changes[i - 1]!.seq)
      assert.equal(await store.latestChange(), changes.at(-1)!.seq)
      assert.equal((await store.changesSince(start, 2)).length, 2)
      assert.deepEqual(await store.changesSince(await store.latestChange(), 10), [])
    })

    test('consumeOnce accepts a key once until it expires', async () => {
      const future = Math.floor(Date.now() / 1000) + 60
      assert.equal(await store.consumeOnce('once:a', future), true)
      assert.equal(await store.consumeOnce('once:a', future), false)
      assert.equal(await store.consumeOnce('once:b', future), true)
      const past = Math.floor(Date.now() / 1000) - 1
      assert.equal(await store.consumeOnce('once:expired', past), true)
      assert.equal(await store.consumeOnce('once:expired', future), true, 'an expired entry no longer blocks')
    })

    test('consumeOnce is atomic: of many concurrent calls exactly one wins', async () => {
      const future = Math.floor(Date.now() / 1000) + 60
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.consumeOnce('once:race', future)),
      )
      assert.equal(results.filter(Boolean).length, 1)
    })

    test('ping answers on a healthy store', async () => {
      await store.ping()
    })
  })
}

function sampleClient(clientId: string): ClientRecord {
  return {
    clientId,
    name: `Client ${clientId} — “unicode” name`,
    scopes: ['prices.read', 'prices.write'],
    grants: ['client_credentials', 'servicekey'],
    tokenTtl: 900,
    enabled: true,
    isPublic: false,
    introspect: true,
    signature: true,
    secrets: [
      { hash: 's256$salt$digest', createdAt: 1_700_000_000, expiresAt: null },
      { hash: 's256$old$digest', createdAt: 1_600_000_000, expiresAt: 1_700_000_600 },
    ],
    sealedSecret: 'v1.iv.body.tag',
    createdAt: 1_700_000_000,
    updatedAt: 1_700_000_001,
  }
}

function sampleKey(kid: string, createdAt: number): SigningKeyRecord {
  return {
    kid,
    alg: 'ES256',
    publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid, alg: 'ES256', use: 'sig' },
    sealedPrivateKey: 'v1.a.b.c',
    createdAt,
    activatesAt: createdAt,
    retiresAt: null,
  }
}
