import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { openAdmin } from '../../packages/server/src/cli/context.ts'
import { basic, json, startTestServer } from './harness.ts'

const BIN = join(import.meta.dirname, '../../packages/server/bin/gatehouse.ts')
const run = promisify(execFile)

async function cli(
  args: string[],
  dataDir: string,
  env: NodeJS.ProcessEnv = cleanEnv(),
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args, '--data', dataDir], { env })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of Object.keys(env)) if (name.startsWith('GATEHOUSE_')) delete env[name]
  return env
}

async function cliJson(args: string[], dataDir: string) {
  const result = await cli([...args, '--json'], dataDir)
  assert.equal(result.code, 0, result.stderr)
  return JSON.parse(result.stdout)
}

/** Polls until `check` holds, failing after `ms`: a change must reach the server within a second. */
async function within(ms: number, check: () => Promise<boolean>) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  assert.fail(`not within ${ms} ms`)
}

describe('the CLI against a running server on the same storage', () => {
  let dataDir: string
  let server: ChildProcess
  let url: string
  let banner = ''
  let stdout = ''

  before(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'gatehouse-cli-')), 'data')
    server = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dataDir], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    server.stdout!.on('data', (chunk) => {
      stdout += chunk
    })
    url = await new Promise<string>((resolve, reject) => {
      server.stderr!.on('data', (chunk) => {
        banner += chunk
        const match = /listening on (http:\/\/\S+)/.exec(banner)
        if (match) resolve(match[1]!)
      })
      server.once('exit', (code) => reject(new Error(`server exited with ${code}: ${banner}`)))
    })
  })
  after(async () => {
    server.kill('SIGTERM')
    await new Promise((r) => server.once('exit', r))
    await rm(join(dataDir, '..'), { recursive: true, force: true })
  })

  const tokenStatus = async (id: string, secret: string) =>
    (
      await fetch(`${url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) },
        body: 'grant_type=client_credentials',
      })
    ).status

  test('serve says where it listens and what it created', () => {
    assert.match(banner, /created\s+data directory/)
    assert.match(banner, /master key .*master\.key/)
    assert.match(banner, /signing key \S+ \(RS256\)/)
  })

  test('clients create --json prints one JSON object with the secret; curl-style token request works', async () => {
    const created = await cliJson(['clients', 'create', '--name', 'demo', '--scope', 'prices.read'], dataDir)
    assert.equal(created.name, 'demo')
    assert.deepEqual(created.scopes, ['prices.read'])
    assert.equal(typeof created.client_secret, 'string')
    assert.equal(await tokenStatus(created.client_id, created.client_secret), 200)
    const shown = await cliJson(['clients', 'show', created.client_id], dataDir)
    assert.equal(shown.client_secret, undefined)
    const listed = await cliJson(['clients', 'list'], dataDir)
    assert.ok(
      Array.isArray(listed) && listed.some((c: { client_id: string }) => c.client_id === created.client_id),
    )
  })

  test('an idle server writes its access line to standard output within a second', async () => {
    const c = await cliJson(['clients', 'create', '--name', 'logged'], dataDir)
    const requestId = `idle-${Date.now()}`
    const res = await fetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(c.client_id, c.client_secret),
        'x-request-id': requestId,
      },
      body: 'grant_type=client_credentials',
    })
    assert.equal(res.status, 200)
    await within(1000, async () => stdout.includes(`"reqId":"${requestId}"`))
    const line = JSON.parse(stdout.split('\n').find((l) => l.includes(requestId))!)
    assert.equal(line.msg, 'request completed')
    assert.equal(line.outcome, 'success')
    assert.equal(line.req.path, '/oauth/token')
  })

  test('a disabled client is refused within one second, and enabled again likewise', async () => {
    const c = await cliJson(['clients', 'create', '--name', 'soon-disabled'], dataDir)
    assert.equal(await tokenStatus(c.client_id, c.client_secret), 200)
    await cliJson(['clients', 'disable', c.client_id], dataDir)
    await within(1000, async () => (await tokenStatus(c.client_id, c.client_secret)) === 401)
    await cliJson(['clients', 'enable', c.client_id], dataDir)
    await within(1000, async () => (await tokenStatus(c.client_id, c.client_secret)) === 200)
  })

  test('a rotated secret stops working within one second', async () => {
    const c = await cliJson(['clients', 'create', '--name', 'rotating'], dataDir)
    assert.equal(await tokenStatus(c.client_id, c.client_secret), 200)
    const rotated = await cliJson(['clients', 'rotate-secret', c.client_id], dataDir)
    await within(1000, async () => (await tokenStatus(c.client_id, c.client_secret)) === 401)
    assert.equal(await tokenStatus(c.client_id, rotated.client_secret), 200)
  })

  test('an imported id and secret work as given, a secret that starts with a dash joined to its flag', async () => {
    // A base64url secret starts with a dash one time in 64; given apart from its flag it is refused.
    const secret = '-Xk2_imported-from-the-old-vendor'
    const refused = await cli(['clients', 'create', '--name', 'imp', '--client-secret', secret], dataDir)
    assert.equal(refused.code, 1)
    assert.match(
      refused.stderr,
      /--client-secret needs a value \(one that starts with a dash goes as --client-secret=-…\)/,
    )
    const c = await cliJson(
      ['clients', 'create', '--name', 'imp', '--client-id', 'imported-dash', `--client-secret=${secret}`],
      dataDir,
    )
    assert.equal(c.client_id, 'imported-dash')
    assert.equal(c.client_secret, secret)
    assert.equal(await tokenStatus('imported-dash', secret), 200)
    assert.equal(await tokenStatus('imported-dash', secret.slice(1)), 401)
  })

  test("service-keys delete revokes one key within one second; the client's others keep working", async () => {
    const c = await cliJson(
      ['clients', 'create', '--name', 'services', '--public', '--grant', 'servicekey', '--scope', 's.read'],
      dataDir,
    )
    const [leaked, kept] = await Promise.all(
      ['leaked', 'kept'].map((name) =>
        cliJson(['service-keys', 'create', c.client_id, '--service-name', name], dataDir),
      ),
    )
    const status = async (key: { service_name: string; service_key: string }) =>
      (
        await fetch(`${url}/connect/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'servicekey',
            client_id: c.client_id,
            serviceName: key.service_name,
            serviceKey: key.service_key,
          }),
        })
      ).status
    assert.equal(await status(leaked), 200)
    const deleted = await cliJson(
      ['service-keys', 'delete', c.client_id, '--service-name', 'leaked'],
      dataDir,
    )
    assert.deepEqual(deleted, { client_id: c.client_id, service_name: 'leaked', deleted: true })
    await within(1000, async () => (await status(leaked)) === 400)
    assert.equal(await status(kept), 200)
    const again = await cli(['service-keys', 'delete', c.client_id, '--service-name', 'leaked'], dataDir)
    assert.equal(again.code, 1)
    assert.match(again.stderr, /has no service key named leaked/)
  })

  test('keys rotate --now reaches the running server: its JWKS publishes the new key', async () => {
    const key = await cliJson(['keys', 'rotate', '--now'], dataDir)
    assert.equal(key.state, 'active')
    await within(1000, async () => {
      const jwks = await json(await fetch(`${url}/.well-known/jwks.json`))
      return jwks.keys.some((k: { kid: string }) => k.kid === key.kid)
    })
    const keys = await cliJson(['keys', 'list'], dataDir)
    assert.deepEqual(keys.map((k: { state: string }) => k.state).sort(), ['active', 'retired'])
  })

  test('apis create and list', async () => {
    const api = await cliJson(
      [
        'apis',
        'create',
        '--identifier',
        'https://api.example.com',
        '--scope',
        'a.read',
        '--scope',
        'a.write',
      ],
      dataDir,
    )
    assert.deepEqual(api.scopes, ['a.read', 'a.write'])
    const apis = await cliJson(['apis', 'list'], dataDir)
    assert.equal(apis.length, 1)
  })

  test('a serve that cannot start exits with status 1 and one line instead of hanging', async () => {
    const serve = (args: string[], env: NodeJS.ProcessEnv) =>
      run(process.execPath, [BIN, 'serve', ...args], { env, timeout: 20_000 }).then(
        () => ({ code: 0, stderr: '', killed: false }),
        (error: { code: number | null; stderr: string; killed: boolean }) => error,
      )
    const port = new URL(url).port
    const busy = await serve(['--port', port, '--data', join(dataDir, '..', 'other')], cleanEnv())
    assert.equal(busy.killed, false, 'still running 20 s after it failed')
    assert.equal(busy.code, 1)
    assert.match(busy.stderr, /^gatehouse: .*EADDRINUSE/)
    // A master key other than the one that sealed this data directory's signing keys.
    const wrongKey = { ...cleanEnv(), GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64url') }
    const sealed = await serve(['--port', '0', '--data', dataDir], wrongKey)
    assert.equal(sealed.killed, false, 'still running 20 s after it failed')
    assert.equal(sealed.code, 1)
    assert.equal(sealed.stderr.trim().split('\n').length, 1, sealed.stderr)
  })

  test('errors: exit status 1 and one line on standard error, nothing on standard output', async () => {
    for (const args of [
      ['clients', 'show', 'no-such-client', '--json'],
      ['clients', 'create', '--json'],
      ['clients', 'create', '--name', 'x', '--grant', 'password', '--json'],
      ['clients', 'create', '--name', 'x', '--token-ttl', 'soon', '--json'],
      ['clients', 'frobnicate'],
      ['clients', 'create', '--name', 'x', '--bogus-flag'],
      // node:util's parseArgs says these in three lines; the CLI says them in one.
      ['clients', 'create', '--name'],
      ['clients', 'list', '--json=yes'],
    ]) {
      const result = await cli(args, dataDir)
      assert.equal(result.code, 1, args.join(' '))
      assert.equal(result.stdout, '')
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
      assert.match(result.stderr, /^gatehouse: /)
    }
  })

  test('a mistaken command or option names what was asked; a group alone lists its commands', async () => {
    const messages = async (args: string[]) => (await cli(args, dataDir)).stderr.trim()
    assert.equal(
      await messages(['frobnicate']),
      'gatehouse: unknown command "frobnicate"; run "gatehouse help" for the list',
    )
    assert.equal(
      await messages(['clients', 'frobnicate']),
      'gatehouse: unknown command "clients frobnicate"; run "gatehouse help" for the list',
    )
    assert.match(await messages(['clients']), /^gatehouse: "clients" needs a command: create, list, show, /)
    assert.match(await messages(['keys', '--json']), /^gatehouse: "keys" needs a command: list, rotate;/)
    assert.equal(
      await messages(['clients', 'create', '--name']),
      'gatehouse: --name needs a value (one that starts with a dash goes as --name=-…)',
    )
    assert.equal(
      await messages(['clients', 'list', '--after']),
      'gatehouse: unknown option --after; add --help for the options',
    )
  })
})

describe('the CLI with a master key other than the one that sealed the signing keys', () => {
  test('refuses to write, says where its key came from, and leaves no master.key of its own', async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'gatehouse-mk-')), 'data')
    const key = (fill: number) => ({
      ...cleanEnv(),
      GATEHOUSE_MASTER_KEY: Buffer.alloc(32, fill).toString('base64url'),
    })
    const withEnv = (args: string[], env: NodeJS.ProcessEnv) => cli(args, dataDir, env)
    try {
      // The server's key comes from the environment; its first signing key is sealed with it.
      assert.equal((await withEnv(['keys', 'rotate', '--now'], key(1))).code, 0)
      const kids = async () => JSON.parse((await withEnv(['keys', 'list', '--json'], key(1))).stdout).length

      const other = await withEnv(['keys', 'rotate', '--now', '--json'], key(2))
      assert.equal(other.code, 1)
      assert.equal(other.stdout, '')
      assert.match(
        other.stderr,
        /^gatehouse: the master key does not open .*GATEHOUSE_MASTER_KEY holds another key/,
      )
      assert.equal(other.stderr.trim().split('\n').length, 1)

      // Without the variable the CLI would make a master.key of its own in the data directory.
      const none = await withEnv(['clients', 'create', '--name', 'x', '--json'], cleanEnv())
      assert.equal(none.code, 1)
      assert.match(
        none.stderr,
        /there was no master key at .*master\.key and GATEHOUSE_MASTER_KEY is not set/,
      )
      assert.equal(existsSync(join(dataDir, 'master.key')), false, 'the key it made is removed again')

      assert.equal(await kids(), 1, 'no key sealed with another master key was stored')
      const clients = JSON.parse((await withEnv(['clients', 'list', '--json'], key(1))).stdout)
      assert.equal(clients.length, 0, 'nor a client')

      // The first master key is lost: the second replaces the keys it sealed, on request only.
      assert.equal((await withEnv(['keys', 'rotate', '--lost-master-key'], key(2))).code, 1, 'needs --now')
      assert.equal((await withEnv(['keys', 'rotate', '--now', '--lost-master-key'], key(2))).code, 0)
      assert.equal((await withEnv(['clients', 'create', '--name', 'y', '--json'], key(2))).code, 0)
      assert.equal((await withEnv(['keys', 'list'], key(1))).code, 1, 'the old key is the stranger now')
    } finally {
      await rm(dirname(dataDir), { recursive: true, force: true })
    }
  })
})

test("keys rotate keeps the algorithm the servers sign with, whatever this command's config says", async () => {
  const dataDir = join(await mkdtemp(join(tmpdir(), 'gatehouse-alg-')), 'data')
  const run = async (args: string[], env: NodeJS.ProcessEnv) => {
    const result = await cli([...args, '--json'], dataDir, env)
    assert.equal(result.code, 0, result.stderr)
    return JSON.parse(result.stdout)
  }
  try {
    // A server configured for ES256 made the first key; the CLI runs without that config.
    const first = await run(['keys', 'rotate', '--now'], {
      ...cleanEnv(),
      GATEHOUSE_TOKEN_ALGORITHM: 'ES256',
    })
    assert.equal(first.alg, 'ES256')
    assert.equal((await run(['keys', 'rotate'], cleanEnv())).alg, 'ES256')
    assert.equal((await run(['keys', 'rotate', '--now'], cleanEnv())).alg, 'ES256')
  } finally {
    await rm(dirname(dataDir), { recursive: true, force: true })
  }
})

test('keys a running server cannot load hold no other change back, and make it not ready', async () => {
  const server = await startTestServer({ changePollInterval: 50 })
  try {
    const client = await server.createClient()
    const status = async () =>
      (
        await server.form(
          '/oauth/token',
          { grant_type: 'client_credentials' },
          { auth: [client.id, client.secret] },
        )
      ).status
    assert.equal(await status(), 200)
    // Another master key replaces the keys (the lost-key recovery), while this server runs on the old one.
    const other = { ...cleanEnv(), GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 9).toString('base64url') }
    assert.equal((await cli(['keys', 'rotate', '--now', '--lost-master-key'], server.dataDir, other)).code, 0)
    await server.admin.clients.setEnabled(client.id, false)
    await within(1000, async () => (await status()) === 401)
    // Not ready from the first failed reload on; polled, as the disable was.
    await within(1000, async () => (await fetch(`${server.url}/readyz`)).status === 503)
    assert.match((await json(await fetch(`${server.url}/readyz`))).reason, /cannot be loaded/)
  } finally {
    await server.stop()
  }
})

test('what this version cannot do is refused in one line: --redis-url, --database-url, a broken config file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-refused-'))
  try {
    const broken = join(dir, 'gatehouse.yaml')
    writeFileSync(broken, 'port: 1\nport: 2\n')
    for (const [args, message] of [
      [['serve', '--port', '0', '--redis-url', 'redis://127.0.0.1:1'], /--redis-url .* is not available/],
      [['clients', 'list', '--database-url', 'postgres://127.0.0.1/x'], /--database-url .* is not available/],
      [['clients', 'list', '--config', broken], /neither valid JSON nor YAML: .*line 2/],
    ] as const) {
      const result = await cli([...args], join(dir, 'data'))
      assert.equal(result.code, 1, args.join(' '))
      assert.match(result.stderr, message)
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('clients list streams more than a page of clients, in the order they were created, and stops quietly when its reader does', async () => {
  const dataDir = join(await mkdtemp(join(tmpdir(), 'gatehouse-list-')), 'data')
  const admin = await openAdmin({ data: dataDir })
  try {
    const made: string[] = []
    for (let i = 0; i < 1205; i++)
      made.push((await admin.clients.create({ name: `client ${i}` })).client.clientId)
    const expected = (await Promise.all(made.map((id) => admin.clients.get(id))))
      .sort((a, b) => a.createdAt - b.createdAt || (a.clientId < b.clientId ? -1 : 1))
      .map((c) => c.clientId)

    const listed = await cliJson(['clients', 'list'], dataDir)
    assert.deepEqual(
      listed.map((c: { client_id: string }) => c.client_id),
      expected,
    )
    const text = await cli(['clients', 'list'], dataDir)
    assert.equal(text.code, 0, text.stderr)
    const lines = text.stdout.trimEnd().split('\n')
    assert.equal(lines.length, 1 + 1205)
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(' ')[0]),
      expected,
    )

    // `gatehouse clients list | head -1`: the pipe closes early, and the CLI says nothing of it.
    const shell = await run(
      'sh',
      ['-c', `"${process.execPath}" "${BIN}" clients list --json --data "${dataDir}" | head -1`],
      {
        env: cleanEnv(),
      },
    )
    assert.equal(shell.stdout, '[\n')
    assert.equal(shell.stderr, '')
  } finally {
    await admin.close()
    await rm(dirname(dataDir), { recursive: true, force: true })
  }
})
