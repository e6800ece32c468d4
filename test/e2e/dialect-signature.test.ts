/*
 * Seed 001: `POST /api/TokenAuth/Authenticate`, JSON {clientId, time, signature} where
 * signature = upper-case hex MD5(clientId + time + clientSecret); answer
 * {code: 200, data: {accessToken, expireInSeconds}, success: true, msg: null}.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  assertSignatureError,
  disableClient,
  FORM,
  formBody,
  freshSeconds,
  JSON_TYPE,
  lifetime,
  md5Signature,
  NO_RATE_LIMIT,
  nowMillis,
  nowSeconds,
  OVERSIZED,
  PATHS,
  postJson,
  send,
  signedBody,
  verifyAccessToken,
} from './dialects-fixtures.ts'
import { json, startTestServer, type TestServer } from './harness.ts'

const PATH = PATHS.signature

/** The seed's example request body, with its layout, for a given time and signature. */
function seedLayout(clientId: string, time: number | string, signature: string): string {
  const t = typeof time === 'number' ? String(time) : JSON.stringify(time)
  return `{\n"clientId": ${JSON.stringify(clientId)},\n"time": ${t},\n"signature": ${JSON.stringify(signature)}\n}`
}

describe('seed 001: MD5 signature at POST /api/TokenAuth/Authenticate', () => {
  let server: TestServer
  /** The seed's client `openapi`. */
  let openapi: { id: string; secret: string }
  /** A client allowed client credentials but not signature authentication. */
  let unsigned: { id: string; secret: string }

  before(async () => {
    server = await startTestServer(NO_RATE_LIMIT)
    openapi = await server.createClient({ clientId: 'openapi', signature: true, scopes: ['data.read'] })
    unsigned = await server.createClient({ signature: false })
  })
  after(() => server.stop())

  async function assertSuccess(res: Response, clientId: string) {
    const text = await res.text()
    assert.equal(res.status, 200, text)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    const body = JSON.parse(text)
    assert.deepEqual(Object.keys(body), ['code', 'data', 'success', 'msg'])
    assert.equal(body.code, 200)
    assert.deepEqual(Object.keys(body.data), ['accessToken', 'expireInSeconds'])
    assert.equal(typeof body.data.accessToken, 'string')
    assert.match(body.data.accessToken, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
    assert.equal(body.data.expireInSeconds, 86400)
    assert.equal(Number.isInteger(body.data.expireInSeconds), true)
    assert.equal(body.success, true)
    assert.equal(body.msg, null)
    const { payload } = await verifyAccessToken(server, body.data.accessToken)
    assert.equal(payload.client_id, clientId)
    assert.equal(lifetime(payload), 86400)
    return payload
  }

  describe('the seed request', () => {
    test('exactly the seed body (13-digit time, upper-case signature) gets the seed answer', async () => {
      const time = nowMillis()
      assert.equal(String(time).length, 13)
      const signature = md5Signature('openapi', time, openapi.secret)
      assert.match(signature, /^[0-9A-F]{32}$/)
      const res = await send(server, PATH, seedLayout('openapi', time, signature), { contentType: JSON_TYPE })
      const payload = await assertSuccess(res, 'openapi')
      assert.equal(payload.iss, server.issuer)
      assert.equal(payload.scope, 'data.read')
    })

    test('a 10-digit time in seconds, as the seed code samples compute it', async () => {
      const time = freshSeconds()
      assert.equal(String(time).length, 10)
      await assertSuccess(
        await postJson(server, PATH, signedBody('openapi', openapi.secret, time)),
        'openapi',
      )
    })

    test('time as a numeric string', async () => {
      const time = String(nowMillis())
      await assertSuccess(
        await postJson(server, PATH, signedBody('openapi', openapi.secret, time)),
        'openapi',
      )
    })

    test('a lower-case signature is accepted the first time', async () => {
      const body = signedBody('openapi', openapi.secret)
      body.signature = body.signature.toLowerCase()
      await assertSuccess(await postJson(server, PATH, body), 'openapi')
    })

    test('application/json with a charset parameter is JSON', async () => {
      const res = await postJson(
        server,
        PATH,
        signedBody('openapi', openapi.secret),
        'application/json; charset=utf-8',
      )
      await assertSuccess(res, 'openapi')
    })

    test('the endpoint lifetime is configurable', async () => {
      const custom = await startTestServer({ endpoints: { signature: { tokenTtl: 900 } } })
      try {
        const c = await custom.createClient({ signature: true })
        const res = await postJson(custom, PATH, signedBody(c.id, c.secret))
        const body = await json(res)
        assert.equal(res.status, 200)
        assert.equal(body.data.expireInSeconds, 900)
        assert.equal(lifetime((await verifyAccessToken(custom, body.data.accessToken)).payload), 900)
      } finally {
        await custom.stop()
      }
    })
  })

  describe('400: malformed requests', () => {
    const cases: { name: string; body: () => string; contentType?: string | undefined }[] = [
      { name: 'malformed JSON', body: () => '{"clientId": "openapi", "time": ' },
      { name: 'empty body', body: () => '' },
      { name: 'a JSON array', body: () => JSON.stringify([signedBody('openapi', openapi.secret)]) },
      { name: 'a JSON string', body: () => JSON.stringify('openapi') },
      { name: 'a JSON number', body: () => '1724753509317' },
      { name: 'JSON null', body: () => 'null' },
      {
        name: 'missing clientId',
        body: () => {
          const { clientId: _, ...rest } = signedBody('openapi', openapi.secret)
          return JSON.stringify(rest)
        },
      },
      {
        name: 'missing time',
        body: () => {
          const { time: _, ...rest } = signedBody('openapi', openapi.secret)
          return JSON.stringify(rest)
        },
      },
      {
        name: 'missing signature',
        body: () => {
          const { signature: _, ...rest } = signedBody('openapi', openapi.secret)
          return JSON.stringify(rest)
        },
      },
      {
        name: 'time is a non-numeric string',
        body: () => JSON.stringify({ ...signedBody('openapi', openapi.secret), time: 'yesterday' }),
      },
      {
        name: 'time is a boolean',
        body: () => JSON.stringify({ ...signedBody('openapi', openapi.secret), time: true }),
      },
      {
        name: 'time is null',
        body: () => JSON.stringify({ ...signedBody('openapi', openapi.secret), time: null }),
      },
      {
        name: 'time is an object',
        body: () => JSON.stringify({ ...signedBody('openapi', openapi.secret), time: { ms: nowMillis() } }),
      },
      {
        name: 'wrong content type: the same fields form-encoded',
        body: () => {
          const b = signedBody('openapi', openapi.secret)
          return formBody({ clientId: b.clientId, time: String(b.time), signature: b.signature })
        },
        contentType: FORM,
      },
      {
        name: 'wrong content type: JSON labelled text/plain',
        body: () => JSON.stringify(signedBody('openapi', openapi.secret)),
        contentType: 'text/plain',
      },
      {
        name: 'no content type',
        body: () => JSON.stringify(signedBody('openapi', openapi.secret)),
        contentType: undefined,
      },
    ]
    for (const c of cases) {
      test(c.name, async () => {
        const contentType = 'contentType' in c ? c.contentType : JSON_TYPE
        const res = await send(server, PATH, c.body(), { contentType })
        await assertSignatureError(res, 400)
      })
    }

    test('a body over 64 KiB: 413 in the seed 001 format', async () => {
      const body = JSON.stringify({ ...signedBody('openapi', openapi.secret), pad: OVERSIZED })
      await assertSignatureError(await postJson(server, PATH, body), 413)
    })
  })

  test('another method is a 405 in the seed envelope, with Allow: POST', async () => {
    const res = await fetch(`${server.url}${PATH}`)
    assert.equal(res.headers.get('allow'), 'POST')
    await assertSignatureError(res, 405)
  })

  describe('401: refused authentication', () => {
    test('after rotate-secret --grace both secrets sign until the grace ends; without grace only the new one', async () => {
      const c = await server.createClient({ signature: true })
      // The server learns of a changed client from the change feed, polled every 50 ms here.
      const rotate = async (grace: number) => {
        const { secret } = await server.admin.clients.rotateSecret(c.id, grace)
        await new Promise((resolve) => setTimeout(resolve, 300))
        assert.ok(secret, 'a rotation gives the new secret')
        return secret
      }
      const second = await rotate(3600)
      await assertSuccess(await postJson(server, PATH, signedBody(c.id, c.secret)), c.id)
      await assertSuccess(await postJson(server, PATH, signedBody(c.id, second)), c.id)
      // A second rotation with a grace keeps both earlier secrets; one without keeps none.
      const third = await rotate(3600)
      for (const secret of [c.secret, second, third])
        await assertSuccess(await postJson(server, PATH, signedBody(c.id, secret)), c.id)
      const fourth = await rotate(0)
      for (const old of [c.secret, second, third])
        await assertSignatureError(await postJson(server, PATH, signedBody(c.id, old)), 401)
      await assertSuccess(await postJson(server, PATH, signedBody(c.id, fourth)), c.id)
    })

    test('unknown client', async () => {
      await assertSignatureError(
        await postJson(server, PATH, signedBody('no-such-client', 'some-secret')),
        401,
      )
    })

    test('a client without signature authentication, even with a correct signature', async () => {
      await assertSignatureError(await postJson(server, PATH, signedBody(unsigned.id, unsigned.secret)), 401)
    })

    test('wrong signature (signed with another secret)', async () => {
      await assertSignatureError(
        await postJson(server, PATH, signedBody('openapi', `${openapi.secret}x`)),
        401,
      )
    })

    test('wrong signature (signed over another time)', async () => {
      const time = nowMillis()
      const body = {
        clientId: 'openapi',
        time,
        signature: md5Signature('openapi', time - 1000, openapi.secret),
      }
      await assertSignatureError(await postJson(server, PATH, body), 401)
    })

    test('unknown client and wrong signature get the same answer', async () => {
      const a = await postJson(server, PATH, signedBody('no-such-client', 'some-secret'))
      const b = await postJson(server, PATH, signedBody('openapi', 'some-secret'))
      assert.equal(a.status, b.status)
      assert.deepEqual(await json(a), await json(b))
    })

    test('the seed example itself (time 1724753509317, August 2024) is stale', async () => {
      const time = 1724753509317
      const body = seedLayout('openapi', time, md5Signature('openapi', time, openapi.secret))
      await assertSignatureError(await send(server, PATH, body, { contentType: JSON_TYPE }), 401)
      // And the literal seed signature, which was made with a secret we do not know:
      const literal = seedLayout('openapi', time, 'B9DBA02F6223468F16E8250D8F080CFF')
      await assertSignatureError(await send(server, PATH, literal, { contentType: JSON_TYPE }), 401)
    })

    for (const [label, offset] of [
      ['305 s in the past (seconds)', -305],
      ['305 s in the future (seconds)', 305],
      ['an hour in the past (seconds)', -3600],
    ] as const) {
      test(`time ${label}`, async () => {
        const time = nowSeconds() + offset
        await assertSignatureError(
          await postJson(server, PATH, signedBody('openapi', openapi.secret, time)),
          401,
        )
      })
    }

    for (const [label, offset] of [
      ['305 s in the past (milliseconds)', -305_000],
      ['305 s in the future (milliseconds)', 305_000],
    ] as const) {
      test(`time ${label}`, async () => {
        const time = Date.now() + offset
        await assertSignatureError(
          await postJson(server, PATH, signedBody('openapi', openapi.secret, time)),
          401,
        )
      })
    }

    test('time just inside the window is accepted (±250 s)', async () => {
      for (const offset of [-250, 250]) {
        const time = nowSeconds() + offset
        const res = await postJson(server, PATH, signedBody('openapi', openapi.secret, time))
        assert.equal(res.status, 200, `offset ${offset}: ${await res.text()}`)
      }
    })

    test('the window is configurable', async () => {
      const custom = await startTestServer({ ...NO_RATE_LIMIT, endpoints: { signature: { window: 60 } } })
      try {
        const c = await custom.createClient({ signature: true })
        const stale = await postJson(custom, PATH, signedBody(c.id, c.secret, nowSeconds() - 120))
        await assertSignatureError(stale, 401)
        const fresh = await postJson(custom, PATH, signedBody(c.id, c.secret, nowSeconds() - 30))
        assert.equal(fresh.status, 200)
      } finally {
        await custom.stop()
      }
    })

    test('a disabled client', async () => {
      const doomed = await server.createClient({ signature: true })
      assert.equal((await postJson(server, PATH, signedBody(doomed.id, doomed.secret))).status, 200)
      await disableClient(server, doomed.id)
      await assertSignatureError(await postJson(server, PATH, signedBody(doomed.id, doomed.secret)), 401)
    })
  })

  describe('401: replay', () => {
    test('the same (clientId, time, signature) is accepted once', async () => {
      const body = signedBody('openapi', openapi.secret)
      assert.equal((await postJson(server, PATH, body)).status, 200)
      await assertSignatureError(await postJson(server, PATH, body), 401)
      await assertSignatureError(await postJson(server, PATH, body), 401)
    })

    test('the lower-case copy of an accepted upper-case signature is a replay', async () => {
      const body = signedBody('openapi', openapi.secret)
      assert.equal((await postJson(server, PATH, body)).status, 200)
      const lower = { ...body, signature: body.signature.toLowerCase() }
      await assertSignatureError(await postJson(server, PATH, lower), 401)
    })

    test('the upper-case copy of an accepted lower-case signature is a replay', async () => {
      const body = signedBody('openapi', openapi.secret)
      const lower = { ...body, signature: body.signature.toLowerCase() }
      assert.equal((await postJson(server, PATH, lower)).status, 200)
      await assertSignatureError(await postJson(server, PATH, body), 401)
    })

    test('the same time sent as a string instead of a number is a replay', async () => {
      const body = signedBody('openapi', openapi.secret)
      assert.equal((await postJson(server, PATH, body)).status, 200)
      await assertSignatureError(await postJson(server, PATH, { ...body, time: String(body.time) }), 401)
    })

    test('a replay with the seed layout (different whitespace) is a replay', async () => {
      const body = signedBody('openapi', openapi.secret)
      assert.equal((await postJson(server, PATH, body)).status, 200)
      const again = seedLayout(body.clientId, body.time, body.signature)
      await assertSignatureError(await send(server, PATH, again, { contentType: JSON_TYPE }), 401)
    })

    test('the same request sent five times at once: exactly one 200', async () => {
      const body = signedBody('openapi', openapi.secret)
      const answers = await Promise.all(Array.from({ length: 5 }, () => postJson(server, PATH, body)))
      const statuses = answers.map((r) => r.status).sort()
      assert.deepEqual(statuses, [200, 401, 401, 401, 401])
      await Promise.all(answers.map((r) => r.arrayBuffer()))
    })

    test('two fresh signatures for the same client are both accepted', async () => {
      const first = await postJson(server, PATH, signedBody('openapi', openapi.secret, freshSeconds()))
      const second = await postJson(server, PATH, signedBody('openapi', openapi.secret, freshSeconds()))
      assert.equal(first.status, 200)
      assert.equal(second.status, 200)
    })
  })
})

describe('seed 001: replay protection outlives a restart', () => {
  test('a signature accepted before a restart is a replay after it', async () => {
    let server = await startTestServer()
    const dir = server.dataDir
    try {
      const c = await server.createClient({ signature: true })
      const body = signedBody(c.id, c.secret)
      assert.equal((await postJson(server, PATH, body)).status, 200)
      await server.stop({ keepData: true })
      server = await startTestServer({}, dir)
      await assertSignatureError(await postJson(server, PATH, body), 401)
      // A fresh signature still works: the server did come back.
      assert.equal((await postJson(server, PATH, signedBody(c.id, c.secret))).status, 200)
    } finally {
      await server.stop()
    }
  })
})
