import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { ConflictError } from '../errors.ts'
import type { ClientRecord, RefreshFamilyRecord, SigningKeyRecord } from '../model.ts'
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
      assert.equal(await store.updateClient(changed, client), true)
      assert.deepEqual(await store.getClient('c-update'), changed)
      const missing = sampleClient('c-missing')
      assert.equal(await store.updateClient(missing, missing), false)
      assert.equal(await store.deleteClient('c-update'), true)
      assert.equal(await store.deleteClient('c-update'), false)
      assert.equal(await store.getClient('c-update'), undefined)
    })

    test('an update made from a record that has changed since is refused, and the other change stands', async () => {
      const client = sampleClient('c-stale')
      await store.insertClient(client)
      const read = (await store.getClient('c-stale'))!
      const disabled = { ...read, enabled: false, updatedAt: read.updatedAt + 1 }
      const rotated = { ...read, secrets: [], updatedAt: read.updatedAt + 1 }
      assert.equal(await store.updateClient(disabled, read), true)
      assert.equal(await store.updateClient(rotated, read), false)
      assert.deepEqual(await store.getClient('c-stale'), disabled)
      assert.equal(await store.updateClient({ ...rotated, enabled: false }, disabled), true)
    })

    test('list and count see every client, a page at a time in the order they were created', async () => {
      const before = await store.countClients()
      // Two created in the same second, in the opposite order of their ids; all created after
      // every client of the other tests.
      const at = 2_000_000_000
      const made = [
        { ...sampleClient('c-list-b'), createdAt: at },
        { ...sampleClient('c-list-a'), createdAt: at + 1 },
        { ...sampleClient('c-list-d'), createdAt: at + 1 },
        { ...sampleClient('c-list-c'), createdAt: at + 2 },
        { ...sampleClient('c-list-e'), createdAt: at + 3 },
      ]
      for (const client of [made[3]!, made[0]!, made[4]!, made[2]!, made[1]!])
        await store.insertClient(client)
      assert.equal(await store.countClients(), before + 5)

      const all = await store.listClients({ limit: before + 5 })
      assert.deepEqual(
        all.slice(-5).map((c) => c.clientId),
        ['c-list-b', 'c-list-a', 'c-list-d', 'c-list-c', 'c-list-e'],
      )
      assert.deepEqual(all.at(-1), made[4], 'whole records')
      const pages: string[][] = []
      let after = all[before - 1]
      for (;;) {
        const page = await store.listClients({ after, limit: 2 })
        if (page.length === 0) break
        pages.push(page.map((c) => c.clientId))
        after = page.at(-1)
      }
      assert.deepEqual(pages, [['c-list-b', 'c-list-a'], ['c-list-d', 'c-list-c'], ['c-list-e']])
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
      await store.updateClient({ ...sampleClient('c-feed'), name: 'renamed' }, sampleClient('c-feed'))
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

    test('service keys and children round-trip under their client', async () => {
      await store.insertClient(sampleClient('c-owner'))
      const key = {
        clientId: 'c-owner',
        serviceName: 'svc',
        keyHash: 's256$a$b',
        scopes: ['prices.read'],
        createdAt: 5,
      }
      await store.insertServiceKey(key)
      assert.deepEqual(await store.getServiceKey('c-owner', 'svc'), key)
      assert.equal(await store.getServiceKey('c-other', 'svc'), undefined)
      await assert.rejects(store.insertServiceKey(key), ConflictError)
      const before = await store.latestChange()
      assert.equal(await store.deleteServiceKey('c-other', 'svc'), false)
      assert.equal(await store.deleteServiceKey('c-owner', 'svc'), true)
      assert.equal(await store.getServiceKey('c-owner', 'svc'), undefined)
      assert.equal(await store.deleteServiceKey('c-owner', 'svc'), false)
      assert.deepEqual(
        (await store.changesSince(before, 10)).map((c) => [c.kind, c.id]),
        [['client', 'c-owner']],
        'caches keyed by the client hear of it',
      )
      await store.insertServiceKey(key)

      const child = {
        childKey: 'child-1',
        clientId: 'c-owner',
        name: 'Customer',
        secretHash: 's256$c$d',
        enabled: true,
        createdAt: 6,
        updatedAt: 6,
      }
      await store.insertChild(child)
      assert.deepEqual(await store.getChild('child-1'), child)
      assert.equal(await store.updateChild({ ...child, enabled: false, updatedAt: 7 }), true)
      assert.equal((await store.getChild('child-1'))?.enabled, false)
      assert.equal(await store.updateChild({ ...child, childKey: 'nobody' }), false)
      await assert.rejects(store.insertChild(child), ConflictError)
    })

    test('a refresh family rotates its secret once; a spent secret revokes the family', async () => {
      const now = 1_800_000_000
      await store.insertClient(sampleClient('c-refresh'))
      const first = sampleFamily('fam-1', 's1', 'c-refresh', now)
      await store.insertRefreshFamily(first)
      assert.deepEqual(await store.getRefreshFamily('fam-1'), first)
      await assert.rejects(store.insertRefreshFamily(first), ConflictError)

      const next = successor('s2', now + 1, now + 200)
      const rotated = await store.rotateRefreshFamily('fam-1', 's1', 'c-refresh', next, now + 1)
      assert.equal(rotated.outcome, 'rotated')
      assert.deepEqual(rotated.outcome === 'rotated' && rotated.family, { ...first, ...next })
      assert.deepEqual(await store.getRefreshFamily('fam-1'), { ...first, ...next })

      const reused = await store.rotateRefreshFamily(
        'fam-1',
        's1',
        'c-refresh',
        successor('s3', now + 2, now + 300),
        now + 2,
      )
      assert.equal(reused.outcome, 'reused')
      assert.deepEqual(
        await store.getRefreshFamily('fam-1'),
        { ...first, ...next, revoked: true },
        'the family is revoked, its current secret unchanged',
      )
      const afterRevoke = await store.rotateRefreshFamily(
        'fam-1',
        's2',
        'c-refresh',
        successor('s4', now + 3, now + 300),
        now + 3,
      )
      assert.equal(afterRevoke.outcome, 'invalid')
      const unknown = await store.rotateRefreshFamily(
        'nope',
        's1',
        'c-refresh',
        successor('s5', now, now + 1),
        now,
      )
      assert.equal(unknown.outcome, 'invalid')
    })

    test("another client's refresh family does not rotate and is not revoked", async () => {
      const now = 1_800_000_000
      await store.insertClient(sampleClient('c-owner-a'))
      const family = sampleFamily('fam-o', 'o1', 'c-owner-a', now)
      await store.insertRefreshFamily(family)
      for (const secret of ['o1', 'wrong']) {
        const stolen = await store.rotateRefreshFamily(
          'fam-o',
          secret,
          'c-thief',
          successor('o2', now, now + 10),
          now,
        )
        assert.equal(stolen.outcome, 'invalid')
      }
      assert.deepEqual(await store.getRefreshFamily('fam-o'), family)
    })

    test('an expired refresh family does not rotate; revokeRefreshFamily revokes', async () => {
      const now = 1_800_000_000
      await store.insertClient(sampleClient('c-expiry'))
      await store.insertRefreshFamily({ ...sampleFamily('fam-e', 'e1', 'c-expiry', now), expiresAt: now })
      const expired = await store.rotateRefreshFamily(
        'fam-e',
        'e1',
        'c-expiry',
        successor('e2', now, now + 10),
        now,
      )
      assert.equal(expired.outcome, 'invalid')
      // Not rotated; a store may also have purged it by now, since it has expired.
      const after = await store.getRefreshFamily('fam-e')
      assert.ok(after === undefined || after.secretHash === 'e1', `rotated to ${after?.secretHash}`)
      await store.insertRefreshFamily(sampleFamily('fam-f', 'f1', 'c-expiry', now))
      await store.revokeRefreshFamily('fam-f')
      assert.equal((await store.getRefreshFamily('fam-f'))?.revoked, true)
      await store.revokeRefreshFamily('no-such-family')
    })

    test('of concurrent rotations of one refresh secret exactly one wins, and the family is then revoked', async () => {
      const now = 1_800_000_000
      await store.insertClient(sampleClient('c-race'))
      await store.insertRefreshFamily(sampleFamily('fam-r', 'r1', 'c-race', now))
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.rotateRefreshFamily('fam-r', 'r1', 'c-race', successor(`r1-next-${i}`, now, now + 10), now),
        ),
      )
      assert.equal(results.filter((r) => r.outcome === 'rotated').length, 1)
      assert.ok(
        results.some((r) => r.outcome === 'reused'),
        'a loser presented a spent secret',
      )
      assert.equal((await store.getRefreshFamily('fam-r'))?.revoked, true)
    })

    test("trimRefreshFamilies keeps a client's newest families and touches no other client's", async () => {
      const now = 1_800_000_000
      await store.insertClient(sampleClient('c-trim'))
      await store.insertClient(sampleClient('c-trim-other'))
      // Started at now-50 + 0, 1, 1, 2, 3: two in the same second, the later id the newer.
      const starts = { 'trim-a': 0, 'trim-c': 1, 'trim-b': 1, 'trim-d': 2, 'trim-e': 3 }
      for (const [id, offset] of Object.entries(starts)) {
        const family = sampleFamily(id, `${id}-secret`, 'c-trim', now)
        await store.insertRefreshFamily({ ...family, createdAt: family.createdAt + offset })
      }
      await store.insertRefreshFamily(sampleFamily('trim-other', 'o', 'c-trim-other', now))

      assert.equal(await store.trimRefreshFamilies('c-trim', 3), 2)
      const left = []
      for (const id of Object.keys(starts)) if (await store.getRefreshFamily(id)) left.push(id)
      assert.deepEqual(left.sort(), ['trim-c', 'trim-d', 'trim-e'])
      assert.ok(await store.getRefreshFamily('trim-other'))
      assert.equal(await store.trimRefreshFamilies('c-trim', 3), 0)
      assert.equal(await store.trimRefreshFamilies('c-trim-other', 1), 0)
    })

    test('deleting a client deletes its service keys, children and refresh families', async () => {
      const now = 1_800_000_000
      await store.insertClient(sampleClient('c-cascade'))
      await store.insertServiceKey({
        clientId: 'c-cascade',
        serviceName: 's',
        keyHash: 'h',
        scopes: [],
        createdAt: 1,
      })
      await store.insertChild({
        childKey: 'cascade-child',
        clientId: 'c-cascade',
        name: 'n',
        secretHash: 'h',
        enabled: true,
        createdAt: 1,
        updatedAt: 1,
      })
      await store.insertRefreshFamily(sampleFamily('cascade-rt', 'h', 'c-cascade', now))
      await store.deleteClient('c-cascade')
      assert.equal(await store.getServiceKey('c-cascade', 's'), undefined)
      assert.equal(await store.getChild('cascade-child'), undefined)
      assert.equal(await store.getRefreshFamily('cascade-rt'), undefined)
    })

    test('a revoked access token is denied until it would have expired', async () => {
      const now = 1_800_000_000
      assert.equal(await store.isAccessTokenRevoked('jti-1', now), false)
      await store.revokeAccessToken('jti-1', now + 60)
      assert.equal(await store.isAccessTokenRevoked('jti-1', now), true)
      assert.equal(
        await store.isAccessTokenRevoked('jti-1', now + 61),
        false,
        'the entry ends with the token',
      )
      await store.revokeAccessToken('jti-1', now + 60)
    })

    test('ping answers on a healthy store', async () => {
      await store.ping()
    })
  })
}

export function sampleClient(clientId: string): ClientRecord {
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
    jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'k1' }] },
    jwksUri: 'https://client.example.com/jwks.json',
    createdAt: 1_700_000_000,
    updatedAt: 1_700_000_001,
  }
}

/** What a rotation writes: the new secret's hash, when, and until when. */
function successor(secretHash: string, rotatedAt: number, expiresAt: number) {
  return { secretHash, rotatedAt, expiresAt }
}

function sampleFamily(
  familyId: string,
  secretHash: string,
  clientId: string,
  now: number,
): RefreshFamilyRecord {
  return {
    familyId,
    secretHash,
    clientId,
    subject: clientId,
    scopes: ['prices.read'],
    createdAt: now - 50,
    rotatedAt: now,
    expiresAt: now + 100,
    revoked: false,
  }
}

export function sampleKey(kid: string, createdAt: number): SigningKeyRecord {
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
