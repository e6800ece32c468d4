import assert from 'node:assert/strict'
import { request } from 'node:http'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { basic, json, startTestServer, type TestServer } from './harness.ts'

describe('POST /oauth/token: every refusal has its RFC 6749 status and code', () => {
  let server: TestServer
  let client: { id: string; secret: string }
  let disabled: { id: string; secret: string }
  before(async () => {
    server = await startTestServer({ rateLimit: { failuresPerClient: 1000, failuresPerAddress: 1000 } })
    client = await server.createClient({ scopes: ['prices.read'] })
    disabled = await server.createClient()
    await server.admin.clients.setEnabled(disabled.id, false)
  })
  after(() => server.stop())

  const form = 'application/x-www-form-urlencoded'
  const cases: {
    name: string
    request: () => RequestInit
    status: number
    error: string
    basicChallenge?: boolean
  }[] = [
    {
      name: 'unknown client',
      request: () => post({ grant_type: 'client_credentials' }, basic('no-such-client', 'whatever-secret')),
      status: 401,
      error: 'invalid_client',
      basicChallenge: true,
    },
    {
      name: 'wrong secret',
      request: () => post({ grant_type: 'client_credentials' }, basic(client.id, `${client.secret}x`)),
      status: 401,
      error: 'invalid_client',
      basicChallenge: true,
    },
    {
      name: 'wrong secret in the body',
      request: () => post({ grant_type: 'client_credentials', client_id: client.id, client_secret: 'nope' }),
      status: 401,
      error: 'invalid_client',
    },
    {
      name: 'disabled client',
      request: () => post({ grant_type: 'client_credentials' }, basic(disabled.id, disabled.secret)),
      status: 401,
      error: 'invalid_client',
      basicChallenge: true,
    },
    {
      name: 'no client authentication at all',
      request: () => post({ grant_type: 'client_credentials' }),
      status: 401,
      error: 'invalid_client',
    },
    {
      name: 'scope not allowed',
      request: () =>
        post({ grant_type: 'client_credentials', scope: 'prices.write' }, basic(client.id, client.secret)),
      status: 400,
      error: 'invalid_scope',
    },
    {
      name: 'unsupported grant type',
      request: () => post({ grant_type: 'password' }, basic(client.id, client.secret)),
      status: 400,
      error: 'unsupported_grant_type',
    },
    {
      name: 'grant the client is not allowed',
      request: () => post({ grant_type: 'csp_credentials' }, basic(client.id, client.secret)),
      status: 400,
      error: 'unauthorized_client',
    },
    {
      name: 'duplicate parameter',
      request: () =>
        raw(
          'grant_type=client_credentials&grant_type=client_credentials',
          form,
          basic(client.id, client.secret),
        ),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'missing grant_type',
      request: () => post({ scope: 'prices.read' }, basic(client.id, client.secret)),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'wrong content type (JSON)',
      request: () =>
        raw(
          JSON.stringify({ grant_type: 'client_credentials' }),
          'application/json',
          basic(client.id, client.secret),
        ),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'no content type',
      request: () => ({
        method: 'POST',
        headers: { authorization: basic(client.id, client.secret) },
        body: 'grant_type=client_credentials',
      }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'oversized body',
      request: () =>
        raw(
          `grant_type=client_credentials&pad=${'a'.repeat(70 * 1024)}`,
          form,
          basic(client.id, client.secret),
        ),
      status: 413,
      error: 'invalid_request',
    },
    {
      name: 'malformed Basic header',
      request: () => raw('grant_type=client_credentials', form, 'Basic !!!not-base64'),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'Basic header without a colon',
      request: () =>
        raw('grant_type=client_credentials', form, `Basic ${Buffer.from('just-an-id').toString('base64')}`),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'two authentication methods at once',
      request: () =>
        post(
          { grant_type: 'client_credentials', client_secret: client.secret },
          basic(client.id, client.secret),
        ),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'malformed percent-encoding in the body',
      request: () =>
        raw('grant_type=client_credentials&scope=%E0%A4%A', form, basic(client.id, client.secret)),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'scope with a forbidden character',
      request: () =>
        post({ grant_type: 'client_credentials', scope: 'prices"read' }, basic(client.id, client.secret)),
      status: 400,
      error: 'invalid_scope',
    },
  ]

  for (const c of cases) {
    test(c.name, async () => {
      const res = await fetch(`${server.url}/oauth/token`, c.request())
      const body = await json(res)
      assert.equal(res.status, c.status)
      assert.equal(body.error, c.error)
      assert.equal(typeof body.error_description, 'string')
      assert.equal(res.headers.get('cache-control'), 'no-store')
      if (c.basicChallenge) assert.match(res.headers.get('www-authenticate') ?? '', /^Basic /)
    })
  }

  test('an unreadable Content-Type at introspection and revocation is a 400, as at the token endpoint', async () => {
    for (const path of ['/oauth/introspect', '/oauth/revoke']) {
      const res = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': ';' },
        body: 'token=x',
      })
      assert.equal(res.status, 400, path)
      assert.equal((await json(res)).error, 'invalid_request')
    }
  })

  test('another method on the token endpoint is a 405 in its format, with the methods it takes', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await fetch(`${server.url}/oauth/token`, { method })
      assert.equal(res.status, 405, method)
      assert.equal(res.headers.get('allow'), 'POST')
      assert.equal(res.headers.get('cache-control'), 'no-store')
      const body = await json(res)
      assert.equal(body.error, 'invalid_request')
      assert.match(body.error_description, /takes POST/)
    }
  })

  test('Authorization or Content-Type sent twice: 400 invalid_request, at the token endpoint and introspection', async () => {
    const good = basic(client.id, client.secret)
    const other = basic(disabled.id, disabled.secret)
    const cases: [string, string, Record<string, string | string[]>][] = [
      [
        '/oauth/token',
        'grant_type=client_credentials',
        { authorization: [good, other], 'content-type': form },
      ],
      [
        '/oauth/token',
        'grant_type=client_credentials',
        { authorization: good, 'content-type': [form, 'application/json'] },
      ],
      ['/oauth/introspect', 'token=x', { authorization: [good, good], 'content-type': form }],
    ]
    for (const [path, body, headers] of cases) {
      const answer = await rawPost(new URL(path, server.url), headers, body)
      assert.equal(answer.status, 400, JSON.stringify(headers))
      assert.equal(answer.body.error, 'invalid_request')
      assert.match(answer.body.error_description ?? '', /header once/)
    }
    // The same requests with each header once are answered.
    const once = await rawPost(
      new URL('/oauth/token', server.url),
      { authorization: good, 'content-type': form },
      'grant_type=client_credentials',
    )
    assert.equal(once.status, 200)
  })

  test('the unknown-client and wrong-secret answers are identical', async () => {
    const a = await fetch(
      `${server.url}/oauth/token`,
      post({ grant_type: 'client_credentials' }, basic('nobody', 'x')),
    )
    const b = await fetch(
      `${server.url}/oauth/token`,
      post({ grant_type: 'client_credentials' }, basic(client.id, 'x')),
    )
    assert.deepEqual(await json(a), await json(b))
  })

  function post(fields: Record<string, string>, authorization?: string): RequestInit {
    return raw(new URLSearchParams(fields).toString(), form, authorization)
  }
  function raw(body: string, contentType: string, authorization?: string): RequestInit {
    const headers: Record<string, string> = { 'content-type': contentType }
    if (authorization) headers.authorization = authorization
    return { method: 'POST', headers, body }
  }
})

describe('rate limiting of failed attempts', () => {
  test('after the per-client limit, even the right secret gets 429 with Retry-After', async () => {
    const server = await startTestServer({ rateLimit: { failuresPerClient: 3, failuresPerAddress: 1000 } })
    try {
      const client = await server.createClient()
      for (let i = 0; i < 3; i++) {
        const res = await server.form(
          '/oauth/token',
          { grant_type: 'client_credentials' },
          { auth: [client.id, 'wrong'] },
        )
        assert.equal(res.status, 401)
      }
      const res = await server.form(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { auth: [client.id, client.secret] },
      )
      assert.equal(res.status, 429)
      assert.equal((await json(res)).error, 'too_many_requests')
      assert.ok(Number(res.headers.get('retry-after')) > 0)
      const other = await server.createClient()
      const fine = await server.form(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { auth: [other.id, other.secret] },
      )
      assert.equal(fine.status, 200, 'other clients are unaffected')
    } finally {
      await server.stop()
    }
  })

  test('an id no client can have is refused at once and counted against the address alone', async () => {
    const server = await startTestServer({ rateLimit: { failuresPerClient: 1000, failuresPerAddress: 3 } })
    try {
      const ids = ['x'.repeat(256), 'é-not-ascii', 'with space', 'r'.repeat(60_000)]
      const answers: number[] = []
      for (const id of ids) {
        const res = await server.form('/oauth/token', {
          grant_type: 'client_credentials',
          client_id: id,
          client_secret: 'x',
        })
        answers.push(res.status)
        const body = await json(res)
        assert.ok(body.error === 'invalid_client' || body.error === 'too_many_requests', JSON.stringify(body))
      }
      assert.deepEqual(answers, [401, 401, 401, 429], 'the fourth failure from one address is over its limit')
    } finally {
      await server.stop()
    }
  })
})

describe('connections', () => {
  test('a request that is not HTTP gets 400 in the RFC 6749 error shape', async () => {
    const server = await startTestServer()
    try {
      const { hostname, port } = new URL(server.url)
      for (const request of [
        'POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n',
        'post /oauth/token HTTP/1.1\r\nHost: x\r\n\r\n',
      ]) {
        const socket = connect(Number(port), hostname)
        socket.write(request)
        let answer = ''
        socket.on('data', (chunk) => {
          answer += chunk
        })
        await new Promise((resolve) => socket.once('close', resolve))
        assert.match(answer, /^HTTP\/1\.1 400 /, request)
        assert.match(answer, /cache-control: no-store/i)
        assert.equal(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error, 'invalid_request')
      }
    } finally {
      await server.stop()
    }
  })

  test('a client that stops sending its headers is cut off within 15 s, not held for minutes', async () => {
    const server = await startTestServer()
    try {
      const { hostname, port } = new URL(server.url)
      const socket = connect(Number(port), hostname)
      socket.write(
        'POST /oauth/token HTTP/1.1\r\nHost: gatehouse\r\nContent-Type: application/x-www-form-urlencoded\r\n',
      )
      const started = Date.now()
      let answer = ''
      socket.on('data', (chunk) => {
        answer += chunk
      })
      await new Promise((resolve) => socket.once('close', resolve))
      const seconds = (Date.now() - started) / 1000
      assert.ok(seconds >= 9 && seconds < 16, `closed after ${seconds} s`)
      assert.match(answer, /^HTTP\/1\.1 408 /)
      assert.deepEqual(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error, 'invalid_request')
    } finally {
      await server.stop()
    }
  })
})

/** A POST through node:http, which sends each value of an array header as a header line of its own (fetch joins them). */
function rawPost(
  url: URL,
  headers: Record<string, string | string[]>,
  body: string,
): Promise<{ status: number; body: Record<string, string | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => {
        text += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}
