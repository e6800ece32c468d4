import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { decodeJwtPart, json, startTestServer } from './harness.ts'

const BIN = join(import.meta.dirname, '../../packages/server/bin/gatehouse.ts')
const run = promisify(execFile)

test('each dialect can be moved to another path or switched off', async () => {
  const server = await startTestServer({
    endpoints: {
      servicekey: { path: '/fm/connect/token' },
      signature: { enabled: false },
      refreshable: { basePath: '/legacy/v9' },
      oauth2: { enabled: false },
    },
  })
  try {
    const client = await server.createClient({ grants: ['client_credentials', 'refresh_token'] })
    const moved = await server.form(
      '/fm/connect/token',
      { grant_type: 'client_credentials' },
      { auth: [client.id, client.secret] },
    )
    assert.equal(moved.status, 200)
    assert.equal((await json(moved)).token_type, 'Bearer')
    assert.equal((await server.form('/connect/token', { grant_type: 'client_credentials' })).status, 404)
    assert.equal((await server.form('/oauth/token', { grant_type: 'client_credentials' })).status, 404)
    const refreshable = await server.form('/legacy/v9/token', {
      client_id: client.id,
      client_secret: client.secret,
    })
    assert.equal(refreshable.status, 200)
    assert.equal(typeof (await json(refreshable)).refresh_token, 'string')
    const off = await fetch(`${server.url}/api/TokenAuth/Authenticate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    assert.equal(off.status, 404)
  } finally {
    await server.stop()
  }
})

test('per-dialect default lifetimes, and a client token-ttl overrides every one', async () => {
  const server = await startTestServer()
  try {
    const plain = await server.createClient({
      grants: ['client_credentials', 'refresh_token'],
      signature: true,
    })
    const custom = await server.createClient({
      grants: ['client_credentials', 'refresh_token'],
      signature: true,
      tokenTtl: 120,
    })
    const lifetimes = async (c: { id: string; secret: string }) => {
      const time = String(Math.floor(Date.now() / 1000))
      const signature = createHash('md5').update(`${c.id}${time}${c.secret}`).digest('hex').toUpperCase()
      const answers = [
        await json(
          await server.form('/oauth/token', { grant_type: 'client_credentials' }, { auth: [c.id, c.secret] }),
        ),
        await json(
          await server.form(
            '/connect/token',
            { grant_type: 'client_credentials' },
            { auth: [c.id, c.secret] },
          ),
        ),
        await json(
          await fetch(`${server.url}/api/TokenAuth/Authenticate`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ clientId: c.id, time, signature }),
          }),
        ),
        await json(
          await server.form('/amsu-analysis/v2/token', { client_id: c.id, client_secret: c.secret }),
        ),
      ]
      return answers.map((a) => {
        const token = a.access_token ?? a.data.accessToken
        const claims = decodeJwtPart(token, 1)
        assert.equal(Number(claims.exp) - Number(claims.iat), a.expires_in ?? a.data.expireInSeconds)
        return a.expires_in ?? a.data.expireInSeconds
      })
    }
    assert.deepEqual(await lifetimes(plain), [3600, 7200, 86400, 86400])
    assert.deepEqual(await lifetimes(custom), [120, 120, 120, 120])
  } finally {
    await server.stop()
  }
})

test('a signature client keeps its secret sealed under the master key; other secrets stay hashed', async () => {
  const server = await startTestServer()
  try {
    const signing = await server.createClient({ signature: true })
    const plain = await server.createClient()
    const stored = await server.admin.store.getClient(signing.id)
    assert.ok(stored?.sealedSecret?.startsWith('v1.'))
    assert.equal((await server.admin.store.getClient(plain.id))?.sealedSecret, null)
    await server.admin.store.close()
    const files = ['gatehouse.db', 'gatehouse.db-wal']
      .map((f) => readFileSync(join(server.dataDir, f)).toString('latin1'))
      .join('')
    assert.equal(files.includes(signing.secret), false)
    assert.equal(files.includes(plain.secret), false)
  } finally {
    await server.stop()
  }
})

test('CLI: service-keys create and children create print their secret once, as JSON', async () => {
  const server = await startTestServer()
  const cli = async (...args: string[]) =>
    JSON.parse((await run(process.execPath, [BIN, ...args, '--data', server.dataDir, '--json'])).stdout)
  try {
    const publicClient = await cli(
      'clients',
      'create',
      '--name',
      'fm',
      '--public',
      '--grant',
      'servicekey',
      '--scope',
      'prices',
    )
    assert.equal(publicClient.client_secret, undefined)
    assert.equal(publicClient.public, true)
    const key = await cli(
      'service-keys',
      'create',
      publicClient.client_id,
      '--service-name',
      'svc-a',
      '--scope',
      'prices',
    )
    assert.equal(key.service_name, 'svc-a')
    assert.equal(Buffer.from(key.service_key, 'base64url').length, 32)
    const token = await server.form('/connect/token', {
      grant_type: 'servicekey',
      client_id: publicClient.client_id,
      scope: 'prices',
      serviceName: 'svc-a',
      serviceKey: key.service_key,
    })
    assert.equal(token.status, 200)
    assert.equal(decodeJwtPart((await json(token)).access_token, 1).sub, 'svc-a')

    const integrator = await cli('clients', 'create', '--name', 'integrator', '--grant', 'csp_credentials')
    const child = await cli('children', 'create', integrator.client_id, '--name', 'Customer 1')
    assert.equal(typeof child.child_key, 'string')
    assert.equal(Buffer.from(child.child_secret, 'base64url').length, 32)
    const childToken = await server.form('/oauth/token', {
      grant_type: 'csp_credentials',
      client_id: integrator.client_id,
      client_secret: integrator.client_secret,
      child_key: child.child_key,
      child_secret: child.child_secret,
    })
    assert.equal(childToken.status, 200)
    const claims = decodeJwtPart((await json(childToken)).access_token, 1)
    assert.equal(claims.sub, child.child_key)
    assert.deepEqual(claims.act, { sub: integrator.client_id })

    const disabled = await cli('children', 'disable', child.child_key)
    assert.equal(disabled.enabled, false)
    assert.equal(disabled.child_secret, undefined)
    // The server learns of it through the change feed (50 ms in tests, 250 ms by default).
    await new Promise((r) => setTimeout(r, 200))
    const refused = await server.form('/oauth/token', {
      grant_type: 'csp_credentials',
      client_id: integrator.client_id,
      client_secret: integrator.client_secret,
      child_key: child.child_key,
      child_secret: child.child_secret,
    })
    assert.equal((await json(refused)).error, 'invalid_grant')

    await assert.rejects(
      run(process.execPath, [
        BIN,
        'service-keys',
        'create',
        integrator.client_id,
        '--service-name',
        'x',
        '--data',
        server.dataDir,
      ]),
      /servicekey grant/,
    )
  } finally {
    await server.stop()
  }
})
