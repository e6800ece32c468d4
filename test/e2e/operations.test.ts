import assert from 'node:assert/strict'
import { readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ConfigError, type ConfigInput, parseConfig } from '@gatehouse/core'
import { loadConfig, loadMasterKey } from '@gatehouse/server'
import { masterKeyMode } from '../../packages/server/src/master-key.ts'
import { atOnce } from '../../packages/server/test/at-once.ts'
import { json, startTestServer } from './harness.ts'

test('metrics count token requests by endpoint, grant and outcome, with a latency histogram', async () => {
  const server = await startTestServer()
  try {
    const client = await server.createClient()
    await server.form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { auth: [client.id, client.secret] },
    )
    await server.form('/oauth/token', { grant_type: 'client_credentials' }, { auth: [client.id, 'wrong'] })
    const res = await fetch(`${server.url}/metrics`)
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/)
    const text = await res.text()
    assert.match(
      text,
      /gatehouse_token_requests_total\{endpoint="oauth2",grant_type="client_credentials",outcome="success"\} 1/,
    )
    assert.match(
      text,
      /gatehouse_token_requests_total\{endpoint="oauth2",grant_type="client_credentials",outcome="invalid_client"\} 1/,
    )
    assert.match(text, /gatehouse_token_request_duration_seconds_count\{endpoint="oauth2"\} 2/)
  } finally {
    await server.stop()
  }
})

test('health, readiness and request ids', async () => {
  const server = await startTestServer()
  try {
    assert.deepEqual(await json(await fetch(`${server.url}/healthz`)), { status: 'ok' })
    const ready = await fetch(`${server.url}/readyz`, { headers: { 'x-request-id': 'trace-123' } })
    assert.equal(ready.status, 200)
    assert.equal(ready.headers.get('x-request-id'), 'trace-123')
    assert.ok(server.logs.some((line) => line.includes('"trace-123"')))
  } finally {
    await server.stop()
  }
})

test('discovery documents agree and JWKS may be read cross-origin', async () => {
  const server = await startTestServer()
  try {
    const oidc = await json(await fetch(`${server.url}/.well-known/openid-configuration`))
    const rfc8414 = await fetch(`${server.url}/.well-known/oauth-authorization-server`)
    assert.deepEqual(await json(rfc8414), oidc)
    assert.equal(oidc.token_endpoint, `${server.issuer}/oauth/token`)
    assert.deepEqual(oidc.grant_types_supported, [
      'client_credentials',
      'csp_credentials',
      'client_pc_credentials',
      'refresh_token',
    ])
    const jwks = await fetch(`${server.url}/.well-known/jwks.json`)
    assert.equal(jwks.headers.get('access-control-allow-origin'), '*')
    assert.match(jwks.headers.get('cache-control') ?? '', /max-age=\d+/)
  } finally {
    await server.stop()
  }
})

test('configuration: file, then environment, then flags; errors name the path', () => {
  const file = join(tmpdir(), `gatehouse-config-${process.pid}.yaml`)
  writeFileSync(file, 'port: 9000\ntokens:\n  algorithm: ES256\n  typ: JWT\n')
  const config = loadConfig(
    { config: file, host: '0.0.0.0' },
    { GATEHOUSE_PORT: '9100', GATEHOUSE_TOKEN_ALGORITHM: 'EdDSA' },
  )
  assert.equal(config.port, 9100)
  assert.equal(config.host, '0.0.0.0')
  assert.equal(config.tokens.algorithm, 'EdDSA')
  assert.equal(config.tokens.typ, 'JWT')
  writeFileSync(file, '{"tokens": {"algorithm": "HS256"}, "endpoints": {"oauth2": {"path": "no-slash"}}}')
  assert.throws(
    () => loadConfig({ config: file }, {}),
    (error: Error) => {
      assert.ok(error instanceof ConfigError)
      assert.match(error.message, /tokens\.algorithm/)
      assert.match(error.message, /endpoints\.oauth2\.path/)
      assert.doesNotMatch(error.message, /\n/, 'one line, as the CLI prints it')
      return true
    },
  )
  assert.throws(
    () => loadConfig({ config: '/nonexistent/gatehouse.yaml' }, {}),
    /cannot read the config file/,
  )
})

test('configuration: no two endpoints share a path, nor take a built-in route', () => {
  const refused = (input: ConfigInput, ...paths: RegExp[]) =>
    assert.throws(
      () => parseConfig(input),
      (error: Error) => {
        assert.ok(error instanceof ConfigError)
        for (const path of paths) assert.match(error.message, path)
        return true
      },
    )
  refused(
    { endpoints: { servicekey: { path: '/oauth/token' } } },
    /the path \/oauth\/token is already endpoints\.oauth2's/,
  )
  refused({ endpoints: { oauth2: { path: '/healthz' } } }, /the path \/healthz is already a built-in route/)
  refused(
    { endpoints: { refreshable: { basePath: '/connect' } } },
    /the path \/connect\/token is already endpoints\.servicekey's/,
  )
  // A disabled endpoint takes no path.
  parseConfig({ endpoints: { servicekey: { enabled: false, path: '/oauth/token' } } })
})

test('every lifetime is cut to tokens.maxTtl: an endpoint default, and a client one set with a larger maxTtl', async () => {
  const server = await startTestServer({ tokens: { maxTtl: 600 } })
  try {
    // The harness's admin runs with the default configuration (maxTtl a day), as a CLI without --config.
    const client = await server.createClient({ tokenTtl: 3600 })
    const plain = await server.createClient()
    for (const { id, secret } of [client, plain]) {
      const res = await server.form(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { auth: [id, secret] },
      )
      assert.equal((await json(res)).expires_in, 600)
    }
  } finally {
    await server.stop()
  }
})

test('the master key file is created once with mode 0600, or taken from GATEHOUSE_MASTER_KEY', async () => {
  const dir = join(tmpdir(), `gatehouse-mk-${process.pid}-${Date.now()}`)
  const first = loadMasterKey(dir, {})
  assert.equal(first.source, 'created')
  assert.equal(masterKeyMode(first.path!), 0o600)
  const again = loadMasterKey(dir, {})
  assert.equal(again.source, 'file')
  assert.deepEqual(again.key, first.key)
  const fromEnv = loadMasterKey(dir, { GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64url') })
  assert.equal(fromEnv.source, 'env')
  assert.throws(() => loadMasterKey(dir, { GATEHOUSE_MASTER_KEY: 'too-short' }), /32 bytes/)
})

test('processes that start on a new data directory at once all get the one master key', async () => {
  const module = new URL('../../packages/server/src/master-key.ts', import.meta.url)
  const load =
    "const { key, source } = mod.loadMasterKey(data, {}); return { key: key.toString('hex'), source }"
  for (let round = 0; round < 10; round++) {
    const dir = join(tmpdir(), `gatehouse-mk-race-${process.pid}-${Date.now()}-${round}`)
    const outcomes = await atOnce(module, load, dir, 6)
    assert.deepEqual(
      outcomes.filter((o) => 'error' in o),
      [],
      `round ${round}`,
    )
    const results = outcomes.map(
      (o) => ('value' in o ? o.value : undefined) as { key: string; source: string },
    )
    assert.equal(new Set(results.map((r) => r.key)).size, 1, 'one key for all')
    assert.equal(results.filter((r) => r.source === 'created').length, 1, 'created once')
    assert.deepEqual(readdirSync(dir), ['master.key'], 'no draft left behind')
    rmSync(dir, { recursive: true, force: true })
  }
})
