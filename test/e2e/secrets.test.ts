import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { readFileSync } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import { mock, test } from 'node:test'
import { hashSecret, verifySecret } from '@gatehouse/core'
import { clientView } from '../../packages/server/src/cli/views.ts'
import { json, startTestServer, type TestServer } from './harness.ts'

test('a secret never appears in logs, nor in any answer after creation, nor in the database', async () => {
  const server = await startTestServer({ logLevel: 'trace' })
  try {
    const client = await server.createClient()
    // A secret in the body, in Basic, and (carelessly) in the query string.
    await server.form('/oauth/token', {
      grant_type: 'client_credentials',
      client_id: client.id,
      client_secret: client.secret,
    })
    const ok = await server.form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { auth: [client.id, client.secret] },
    )
    const { access_token } = await json(ok)
    await server.form(
      `/oauth/token?client_secret=${client.secret}`,
      { grant_type: 'client_credentials' },
      { auth: [client.id, 'wrong'] },
    )

    // Access lines go out in batches, within 200 ms.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const logs = server.logs.join('\n')
    assert.ok(logs.includes('/oauth/token'), 'requests were logged')
    assert.equal(logs.includes(client.secret), false, 'the secret is not logged')
    assert.equal(logs.includes(access_token), false, 'the token is not logged')
    assert.equal(logs.includes(Buffer.from(`${client.id}:${client.secret}`).toString('base64')), false)

    const shown = JSON.stringify(clientView(await server.admin.clients.get(client.id)))
    assert.equal(shown.includes(client.secret), false, 'show/list never repeat the secret')
    assert.equal(shown.includes('s256$'), false, 'nor its hash')

    await server.admin.store.close()
    const db = readFileSync(join(server.dataDir, 'gatehouse.db')).toString('latin1')
    const wal = readFileSync(join(server.dataDir, 'gatehouse.db-wal')).toString('latin1')
    assert.equal((db + wal).includes(client.secret), false, 'the database holds only a hash')
    assert.ok((db + wal).includes(client.id), 'while the client itself is there')
  } finally {
    await server.stop()
  }
})

test('generated secrets carry 256 random bits from crypto.randomBytes', async () => {
  const spy = mock.method(crypto, 'randomBytes')
  syncBuiltinESMExports()
  try {
    const server = await startTestServer()
    try {
      spy.mock.resetCalls()
      const a = await server.createClient()
      assert.ok(
        spy.mock.calls.some((call) => call.arguments[0] === 32),
        'a 32-byte draw made the secret',
      )
      const b = await server.createClient()
      assert.equal(Buffer.from(a.secret, 'base64url').length, 32)
      assert.notEqual(a.secret, b.secret)
    } finally {
      await server.stop()
    }
  } finally {
    spy.mock.restore()
    syncBuiltinESMExports()
  }
})

test('secrets are compared in constant time', async () => {
  const stored = await hashSecret('correct-horse-battery-staple-0123456789abcd', 'generated')
  const imported = await hashSecret('imported-secret', 'imported')
  assert.match(imported, /^scrypt\$/)
  const spy = mock.method(crypto, 'timingSafeEqual')
  syncBuiltinESMExports()
  try {
    assert.equal(await verifySecret('correct-horse-battery-staple-0123456789abcd', stored), true)
    assert.equal(await verifySecret('wrong', stored), false)
    assert.equal(await verifySecret('imported-secret', imported), true)
    assert.equal(await verifySecret('imported-secreT', imported), false)
    assert.equal(spy.mock.callCount(), 4, 'every comparison went through timingSafeEqual')
  } finally {
    spy.mock.restore()
    syncBuiltinESMExports()
  }
})

test('rotate-secret: the old secret stops at once, or after the grace period', async () => {
  const server = await startTestServer()
  try {
    const client = await server.createClient()
    const { secret: second } = await server.admin.clients.rotateSecret(client.id, 3600)
    await new Promise((r) => setTimeout(r, 200))
    for (const secret of [client.secret, second!]) {
      const res = await server.form(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { auth: [client.id, secret] },
      )
      assert.equal(res.status, 200, 'both secrets work during the grace period')
    }
    const { secret: third } = await server.admin.clients.rotateSecret(client.id, 0)
    await new Promise((r) => setTimeout(r, 200))
    for (const secret of [client.secret, second!]) {
      const res = await server.form(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { auth: [client.id, secret] },
      )
      assert.equal(res.status, 401)
    }
    const res = await server.form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { auth: [client.id, third!] },
    )
    assert.equal(res.status, 200)
  } finally {
    await server.stop()
  }
})

test('an imported secret keeps working once checked, and stops at once when its client is disabled or its secret rotated', async () => {
  const server = await startTestServer()
  const token = (id: string, secret: string) => clientCredentials(server, id, secret)
  try {
    const a = await server.createClient({ clientId: 'imported-a', clientSecret: 'an-imported-secret' })
    const b = await server.createClient({ clientId: 'imported-b', clientSecret: 'another-imported-one' })
    for (const client of [a, b]) {
      assert.equal((await token(client.id, client.secret)).status, 200, 'checked by scrypt')
      assert.equal((await token(client.id, client.secret)).status, 200, 'checked from memory')
      assert.equal((await token(client.id, `${client.secret}!`)).status, 401)
    }
    await server.admin.clients.setEnabled(a.id, false)
    await server.admin.clients.rotateSecret(b.id, 0)
    await new Promise((r) => setTimeout(r, 200))
    assert.equal((await token(a.id, a.secret)).status, 401, 'disabled: refused although remembered')
    assert.equal((await token(b.id, b.secret)).status, 401, 'rotated away: refused although remembered')
  } finally {
    await server.stop()
  }
})

test('scrypt runs for an imported secret until it has verified once, and never when a newer secret is presented during the grace period', async () => {
  const server = await startTestServer()
  const token = (id: string, secret: string) => clientCredentials(server, id, secret)
  const scrypt = mock.method(crypto, 'scrypt')
  syncBuiltinESMExports()
  try {
    const old = await server.createClient({ clientId: 'imported-grace', clientSecret: 'the-imported-secret' })
    const { secret: next } = await server.admin.clients.rotateSecret(old.id, 3600)
    await new Promise((r) => setTimeout(r, 200))
    scrypt.mock.resetCalls()

    assert.equal((await token(old.id, next!)).status, 200)
    assert.equal(scrypt.mock.callCount(), 0, 'the new secret matched in memory: no scrypt for the old one')
    assert.equal((await token(old.id, 'not-the-secret')).status, 401)
    assert.equal(scrypt.mock.callCount(), 1, 'a refusal checks every live secret')
    assert.equal((await token(old.id, old.secret)).status, 200)
    assert.equal(scrypt.mock.callCount(), 2, 'the imported secret, first verified here')
    assert.equal((await token(old.id, old.secret)).status, 200)
    assert.equal((await token(old.id, 'not-the-secret')).status, 401)
    assert.equal(scrypt.mock.callCount(), 2, 'and from then on checked in memory, right or wrong')
  } finally {
    scrypt.mock.restore()
    syncBuiltinESMExports()
    await server.stop()
  }
})

function clientCredentials(server: TestServer, id: string, secret: string): Promise<Response> {
  return server.form('/oauth/token', { grant_type: 'client_credentials' }, { auth: [id, secret] })
}
