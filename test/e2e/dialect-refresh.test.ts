/*
 * Seed 003 (AMSU): `POST /amsu-analysis/v2/token` form client_id + client_secret (no
 * grant_type) → {access_token, token_type: "bearer", expires_in: 86400, refresh_token};
 * `PUT …/token` or `POST …/token/refreshment` with refresh_token → the same shape with a new
 * refresh token. Errors: {"error": {"code": "COMMON.…", "msg": "…"}}.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, before, describe, test } from 'node:test'
import { parseRefreshToken } from '@gatehouse/core'
import {
  AUTHENTICATION_FAILED,
  assertRefreshError,
  disableClient,
  FORM,
  formBody,
  JSON_TYPE,
  lifetime,
  NO_RATE_LIMIT,
  OVERSIZED,
  PATHS,
  send,
  sleep,
  verifyAccessToken,
} from './dialects-fixtures.ts'
import { decodeJwtPart, json, startTestServer, type TestServer } from './harness.ts'

const BASE = PATHS.refreshBase
const TOKEN = `${BASE}/token`
const REFRESHMENT = `${BASE}/token/refreshment`
const SEED_ID = '5348724013ab2c09ade2'
const SEED_SECRET = '24a0a4fd107c503f5d34'
const REFRESH_GRANTS = ['client_credentials', 'refresh_token']

/** The two ways the seed offers to refresh: PUT on /token, or POST on /token/refreshment. */
const REFRESH_ROUTES = [
  { name: 'PUT /token', method: 'PUT', path: TOKEN },
  { name: 'POST /token/refreshment', method: 'POST', path: REFRESHMENT },
] as const

type Route = (typeof REFRESH_ROUTES)[number]

function refresh(server: TestServer, route: Route, refreshToken: string): Promise<Response> {
  return send(server, route.path, formBody({ refresh_token: refreshToken }), {
    method: route.method,
    contentType: FORM,
  })
}

/** The seed answer, field by field and in the seed's key order. */
async function assertTokenAnswer(server: TestServer, res: Response, clientId: string, withRefresh = true) {
  const text = await res.text()
  assert.equal(res.status, 200, text)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  const body = JSON.parse(text)
  assert.deepEqual(
    Object.keys(body),
    withRefresh
      ? ['access_token', 'token_type', 'expires_in', 'refresh_token']
      : ['access_token', 'token_type', 'expires_in'],
  )
  assert.match(body.access_token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
  assert.equal(body.token_type, 'bearer')
  assert.equal(body.expires_in, 86400)
  assert.equal(Number.isInteger(body.expires_in), true)
  if (withRefresh) {
    assert.equal(typeof body.refresh_token, 'string')
    assert.ok(body.refresh_token.length >= 20, 'a refresh token long enough not to be guessed')
    // The answer writes it without escaping (template.ts): it must be base64url only.
    assert.match(body.refresh_token, /^[\w-]+$/)
    assert.notEqual(body.refresh_token, body.access_token)
  }
  const { payload } = await verifyAccessToken(server, body.access_token)
  assert.equal(payload.client_id, clientId)
  assert.equal(payload.iss, server.issuer)
  assert.equal(lifetime(payload), 86400)
  return { body: body as { access_token: string; refresh_token: string }, payload }
}

describe('seed 003: token with refresh at /amsu-analysis/v2', () => {
  let server: TestServer
  let plain: { id: string; secret: string }

  before(async () => {
    server = await startTestServer(NO_RATE_LIMIT)
    await server.createClient({
      clientId: SEED_ID,
      clientSecret: SEED_SECRET,
      scopes: ['analysis.read'],
      grants: REFRESH_GRANTS,
    })
    plain = await server.createClient({ scopes: ['analysis.read'], grants: ['client_credentials'] })
  })
  after(() => server.stop())

  async function issue(clientId = SEED_ID, secret = SEED_SECRET) {
    const res = await send(server, TOKEN, formBody({ client_id: clientId, client_secret: secret }))
    return (await assertTokenAnswer(server, res, clientId)).body
  }

  describe('the seed requests', () => {
    test('POST /token with the seed body byte for byte gets the seed answer', async () => {
      const res = await send(
        server,
        TOKEN,
        'client_id=5348724013ab2c09ade2&client_secret=24a0a4fd107c503f5d34',
        {
          contentType: 'application/x-www-form-urlencoded',
        },
      )
      const { payload } = await assertTokenAnswer(server, res, SEED_ID)
      assert.equal(payload.scope, 'analysis.read', "the token carries the client's scopes")
    })

    test('a client without the refresh_token grant gets no refresh_token', async () => {
      const res = await send(server, TOKEN, formBody({ client_id: plain.id, client_secret: plain.secret }))
      await assertTokenAnswer(server, res, plain.id, false)
    })

    for (const route of REFRESH_ROUTES) {
      test(`${route.name} with the seed body trades a refresh token for a new pair`, async () => {
        const first = await issue()
        const res = await send(server, route.path, `refresh_token=${first.refresh_token}`, {
          method: route.method,
          contentType: 'application/x-www-form-urlencoded',
        })
        const { body, payload } = await assertTokenAnswer(server, res, SEED_ID)
        assert.notEqual(body.refresh_token, first.refresh_token, 'a new refresh token')
        assert.notEqual(body.access_token, first.access_token, 'a new access token')
        assert.equal(payload.scope, 'analysis.read')
      })
    }

    test('a chain of refreshes, alternating both routes, keeps working', async () => {
      let current = (await issue()).refresh_token
      for (let i = 0; i < 4; i++) {
        const route = REFRESH_ROUTES[i % 2]!
        const { body } = await assertTokenAnswer(server, await refresh(server, route, current), SEED_ID)
        current = body.refresh_token
      }
    })

    test('lifetimes are configurable', async () => {
      const custom = await startTestServer({ endpoints: { refreshable: { tokenTtl: 1200 } } })
      try {
        const c = await custom.createClient({ grants: REFRESH_GRANTS })
        const res = await send(custom, TOKEN, formBody({ client_id: c.id, client_secret: c.secret }))
        const body = await json(res)
        assert.equal(res.status, 200)
        assert.equal(body.expires_in, 1200)
        assert.equal(lifetime((await verifyAccessToken(custom, body.access_token)).payload), 1200)
      } finally {
        await custom.stop()
      }
    })

    test('the base path is configurable', async () => {
      const custom = await startTestServer({ endpoints: { refreshable: { basePath: '/analysis/v3' } } })
      try {
        const c = await custom.createClient({ grants: REFRESH_GRANTS })
        const res = await send(
          custom,
          '/analysis/v3/token',
          formBody({ client_id: c.id, client_secret: c.secret }),
        )
        assert.equal(res.status, 200)
        const rt = (await json(res)).refresh_token
        const again = await send(custom, '/analysis/v3/token', formBody({ refresh_token: rt }), {
          method: 'PUT',
        })
        assert.equal(again.status, 200)
        const old = await send(custom, TOKEN, formBody({ client_id: c.id, client_secret: c.secret }))
        assert.equal(old.status, 404)
        await old.arrayBuffer()
      } finally {
        await custom.stop()
      }
    })
  })

  describe('POST /token errors', () => {
    test('wrong secret: 401 with exactly the seed error', async () => {
      const res = await send(
        server,
        TOKEN,
        formBody({ client_id: SEED_ID, client_secret: 'wrong-secret-123' }),
      )
      assert.equal(res.status, 401)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assert.deepEqual(await json(res), AUTHENTICATION_FAILED)
    })

    test('unknown client: 401 with exactly the seed error', async () => {
      const res = await send(
        server,
        TOKEN,
        formBody({ client_id: 'ffffffffffffffffffff', client_secret: SEED_SECRET }),
      )
      assert.equal(res.status, 401)
      assert.deepEqual(await json(res), AUTHENTICATION_FAILED)
    })

    test('disabled client: 401 with exactly the seed error', async () => {
      const doomed = await server.createClient({ grants: REFRESH_GRANTS })
      await issue(doomed.id, doomed.secret)
      await disableClient(server, doomed.id)
      const res = await send(server, TOKEN, formBody({ client_id: doomed.id, client_secret: doomed.secret }))
      assert.equal(res.status, 401)
      assert.deepEqual(await json(res), AUTHENTICATION_FAILED)
    })

    const malformed: { name: string; body: string; contentType?: string | undefined }[] = [
      { name: 'missing client_secret', body: `client_id=${SEED_ID}` },
      { name: 'missing client_id', body: `client_secret=${SEED_SECRET}` },
      { name: 'empty body', body: '' },
      {
        name: 'client_id given twice',
        body: `client_id=${SEED_ID}&client_id=${SEED_ID}&client_secret=${SEED_SECRET}`,
      },
      { name: 'malformed percent-encoding', body: `client_id=${SEED_ID}&client_secret=%E0%A4%A` },
      {
        name: 'wrong content type (JSON)',
        body: JSON.stringify({ client_id: SEED_ID, client_secret: SEED_SECRET }),
        contentType: JSON_TYPE,
      },
      {
        name: 'wrong content type (text/plain)',
        body: `client_id=${SEED_ID}&client_secret=${SEED_SECRET}`,
        contentType: 'text/plain',
      },
      {
        name: 'no content type',
        body: `client_id=${SEED_ID}&client_secret=${SEED_SECRET}`,
        contentType: undefined,
      },
    ]
    for (const c of malformed) {
      test(`${c.name}: 400 COMMON.INVALID_REQUEST`, async () => {
        const contentType = 'contentType' in c ? c.contentType : FORM
        const res = await send(server, TOKEN, c.body, { contentType })
        await assertRefreshError(res, 400, 'COMMON.INVALID_REQUEST')
      })
    }

    test('a body over 64 KiB: 413 in the seed 003 format', async () => {
      const res = await send(
        server,
        TOKEN,
        `client_id=${SEED_ID}&client_secret=${SEED_SECRET}&pad=${OVERSIZED}`,
      )
      assert.equal(res.status, 413)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      const body = await json(res)
      assert.match(body.error.code, /^COMMON\./)
    })
  })

  test('another method is a 405 in the seed envelope, with the methods each path takes', async () => {
    for (const [path, allowed] of [
      [TOKEN, 'POST, PUT'],
      [REFRESHMENT, 'POST'],
    ]) {
      const res = await fetch(`${server.url}${path}`, { method: 'DELETE' })
      assert.equal(res.headers.get('allow'), allowed)
      await assertRefreshError(res, 405, 'COMMON.INVALID_REQUEST')
    }
  })

  for (const route of REFRESH_ROUTES) {
    describe(`${route.name} errors`, () => {
      test('unknown refresh token: 401 COMMON.INVALID_REFRESH_TOKEN', async () => {
        await assertRefreshError(
          await refresh(server, route, 'not-a-refresh-token-0123456789abcdef'),
          401,
          'COMMON.INVALID_REFRESH_TOKEN',
        )
      })

      test("the seed's example refresh token (signed by AMSU, not us): 401 COMMON.INVALID_REFRESH_TOKEN", async () => {
        const seedToken =
          'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJyZWZyZXNoOmFwcF9rZXk6OTNlZTIwY2I1OWI5NjQ5ZjdjMjAiLCJleHAiOjE2NDgxMDQ2MzN9.xCOLgbFJS0UI-evqJW95lxtHrZD4zITkXYfvJouOcgk'
        await assertRefreshError(await refresh(server, route, seedToken), 401, 'COMMON.INVALID_REFRESH_TOKEN')
      })

      test('an access token presented as a refresh token: 401 COMMON.INVALID_REFRESH_TOKEN', async () => {
        const { access_token } = await issue()
        await assertRefreshError(
          await refresh(server, route, access_token),
          401,
          'COMMON.INVALID_REFRESH_TOKEN',
        )
      })

      test('a spent refresh token: 401 COMMON.INVALID_REFRESH_TOKEN', async () => {
        const a = await issue()
        assert.equal((await refresh(server, route, a.refresh_token)).status, 200)
        await assertRefreshError(
          await refresh(server, route, a.refresh_token),
          401,
          'COMMON.INVALID_REFRESH_TOKEN',
        )
      })

      test('with its own client_id, as OAuth libraries send it: 200', async () => {
        const a = await issue()
        const res = await send(
          server,
          route.path,
          formBody({ refresh_token: a.refresh_token, client_id: SEED_ID }),
          {
            method: route.method,
            contentType: FORM,
          },
        )
        await assertTokenAnswer(server, res, SEED_ID)
      })

      test("with another client's client_id: 401 COMMON.INVALID_REFRESH_TOKEN, and the token stays usable", async () => {
        const a = await issue()
        const res = await send(
          server,
          route.path,
          formBody({ refresh_token: a.refresh_token, client_id: plain.id }),
          { method: route.method, contentType: FORM },
        )
        await assertRefreshError(res, 401, 'COMMON.INVALID_REFRESH_TOKEN')
        await assertTokenAnswer(server, await refresh(server, route, a.refresh_token), SEED_ID)
      })

      test('with client_id and client_secret: the client is authenticated', async () => {
        const a = await issue()
        const wrong = await send(
          server,
          route.path,
          formBody({ refresh_token: a.refresh_token, client_id: SEED_ID, client_secret: 'wrong-secret-123' }),
          { method: route.method, contentType: FORM },
        )
        await assertRefreshError(wrong, 401, 'COMMON.AUTHENTICATION_FAILED')
        const right = await send(
          server,
          route.path,
          formBody({ refresh_token: a.refresh_token, client_id: SEED_ID, client_secret: SEED_SECRET }),
          { method: route.method, contentType: FORM },
        )
        await assertTokenAnswer(server, right, SEED_ID)
      })

      test('a refresh refused for its scope or resource leaves the token usable', async () => {
        const a = await issue()
        const refusals: Record<string, string>[] = [
          { scope: 'not.granted' },
          { resource: 'https://unknown.example.com' },
        ]
        for (const extra of refusals) {
          const res = await send(server, route.path, formBody({ refresh_token: a.refresh_token, ...extra }), {
            method: route.method,
            contentType: FORM,
          })
          await assertRefreshError(res, 400, 'COMMON.INVALID_REQUEST')
        }
        await assertTokenAnswer(server, await refresh(server, route, a.refresh_token), SEED_ID)
      })

      test('a spent token with a bad scope is still a reuse: the family is revoked', async () => {
        const a = await issue()
        const b = (await assertTokenAnswer(server, await refresh(server, route, a.refresh_token), SEED_ID))
          .body
        const reuse = await send(
          server,
          route.path,
          formBody({ refresh_token: a.refresh_token, scope: 'not.granted' }),
          {
            method: route.method,
            contentType: FORM,
          },
        )
        await assertRefreshError(reuse, 401, 'COMMON.INVALID_REFRESH_TOKEN')
        await assertRefreshError(
          await refresh(server, route, b.refresh_token),
          401,
          'COMMON.INVALID_REFRESH_TOKEN',
        )
      })

      test('reuse of a spent token revokes the whole family', async () => {
        const a = await issue()
        const ab = await refresh(server, route, a.refresh_token)
        const b = (await assertTokenAnswer(server, ab, SEED_ID)).body
        // A is spent: presenting it again is a theft signal…
        await assertRefreshError(
          await refresh(server, route, a.refresh_token),
          401,
          'COMMON.INVALID_REFRESH_TOKEN',
        )
        // …so B, never used, is revoked with it.
        await assertRefreshError(
          await refresh(server, route, b.refresh_token),
          401,
          'COMMON.INVALID_REFRESH_TOKEN',
        )
      })

      test('family revocation reaches every descendant but not other families', async () => {
        const a = await issue()
        const other = await issue()
        const b = (await assertTokenAnswer(server, await refresh(server, route, a.refresh_token), SEED_ID))
          .body
        const c = (await assertTokenAnswer(server, await refresh(server, route, b.refresh_token), SEED_ID))
          .body
        // B is spent; reusing it revokes C (its child).
        await assertRefreshError(
          await refresh(server, route, b.refresh_token),
          401,
          'COMMON.INVALID_REFRESH_TOKEN',
        )
        await assertRefreshError(
          await refresh(server, route, c.refresh_token),
          401,
          'COMMON.INVALID_REFRESH_TOKEN',
        )
        // A refresh token from a separate login is untouched.
        await assertTokenAnswer(server, await refresh(server, route, other.refresh_token), SEED_ID)
      })

      test('two concurrent refreshes of the same token: exactly one 200', async () => {
        const a = await issue()
        const answers = await Promise.all([
          refresh(server, route, a.refresh_token),
          refresh(server, route, a.refresh_token),
        ])
        const statuses = answers.map((r) => r.status).sort()
        assert.deepEqual(statuses, [200, 401])
        const loser = answers.find((r) => r.status === 401)!
        await assertRefreshError(loser, 401, 'COMMON.INVALID_REFRESH_TOKEN')
        await answers.find((r) => r.status === 200)!.arrayBuffer()
      })

      test('a disabled client: its refresh token is refused', async () => {
        const doomed = await server.createClient({ grants: REFRESH_GRANTS })
        const first = await issue(doomed.id, doomed.secret)
        await disableClient(server, doomed.id)
        await assertRefreshError(
          await refresh(server, route, first.refresh_token),
          401,
          'COMMON.INVALID_REFRESH_TOKEN',
        )
      })

      const malformed: { name: string; body: string; contentType?: string | undefined }[] = [
        { name: 'missing refresh_token', body: '' },
        { name: 'empty refresh_token', body: 'refresh_token=' },
        { name: 'refresh_token given twice', body: 'refresh_token=abc&refresh_token=def' },
        { name: 'malformed percent-encoding', body: 'refresh_token=%E0%A4%A' },
        {
          name: 'wrong content type (JSON)',
          body: JSON.stringify({ refresh_token: 'abc' }),
          contentType: JSON_TYPE,
        },
        { name: 'no content type', body: 'refresh_token=abc', contentType: undefined },
      ]
      for (const c of malformed) {
        test(`${c.name}: 400 COMMON.INVALID_REQUEST`, async () => {
          const contentType = 'contentType' in c ? c.contentType : FORM
          const res = await send(server, route.path, c.body, { method: route.method, contentType })
          await assertRefreshError(res, 400, 'COMMON.INVALID_REQUEST')
        })
      }
    })
  }

  describe("a family's access tokens die with it (RFC 7009 §2.1, RFC 9700 §4.14.2)", () => {
    const introspect = async (token: string) =>
      (await json(await server.form('/oauth/introspect', { token }, { auth: [SEED_ID, SEED_SECRET] }))) as {
        active: boolean
      }

    test('they name the family by a hash, not by its id', async () => {
      const a = await issue()
      const b = (
        await assertTokenAnswer(server, await refresh(server, REFRESH_ROUTES[0], a.refresh_token), SEED_ID)
      ).body
      const sids = [a, b].map((t) => decodeJwtPart(t.access_token, 1).sid)
      assert.equal(typeof sids[0], 'string')
      assert.equal(sids[0], sids[1], 'one family, one sid')
      assert.notEqual(sids[0], decodeJwtPart((await issue()).access_token, 1).sid, 'another family, another')
      const familyId = a.refresh_token.slice(0, -43)
      assert.ok(!String(sids[0]).includes(familyId) && !familyId.includes(String(sids[0])))
    })

    test('revoking the refresh token makes every access token of its family inactive, and no other', async () => {
      const a = await issue()
      const b = (
        await assertTokenAnswer(server, await refresh(server, REFRESH_ROUTES[0], a.refresh_token), SEED_ID)
      ).body
      const other = await issue()
      for (const t of [a, b, other]) assert.equal((await introspect(t.access_token)).active, true)
      const revoked = await server.form(
        '/oauth/revoke',
        { token: b.refresh_token },
        { auth: [SEED_ID, SEED_SECRET] },
      )
      assert.equal(revoked.status, 200)
      assert.deepEqual(await introspect(a.access_token), { active: false })
      assert.deepEqual(await introspect(b.access_token), { active: false })
      assert.equal((await introspect(other.access_token)).active, true)
    })

    test("a spent token's reuse makes every access token of its family inactive", async () => {
      const a = await issue()
      const b = (
        await assertTokenAnswer(server, await refresh(server, REFRESH_ROUTES[1], a.refresh_token), SEED_ID)
      ).body
      await assertRefreshError(
        await refresh(server, REFRESH_ROUTES[1], a.refresh_token),
        401,
        'COMMON.INVALID_REFRESH_TOKEN',
      )
      assert.deepEqual(await introspect(a.access_token), { active: false })
      assert.deepEqual(await introspect(b.access_token), { active: false })
    })
  })

  test('concurrent refreshes across both routes: exactly one 200', async () => {
    const a = await issue()
    const answers = await Promise.all([
      refresh(server, REFRESH_ROUTES[0], a.refresh_token),
      refresh(server, REFRESH_ROUTES[1], a.refresh_token),
      refresh(server, REFRESH_ROUTES[0], a.refresh_token),
      refresh(server, REFRESH_ROUTES[1], a.refresh_token),
    ])
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 401, 401, 401])
    await Promise.all(answers.map((r) => r.arrayBuffer()))
  })

  test('a refresh token spent on one route is spent on the other', async () => {
    const a = await issue()
    assert.equal((await refresh(server, REFRESH_ROUTES[0], a.refresh_token)).status, 200)
    await assertRefreshError(
      await refresh(server, REFRESH_ROUTES[1], a.refresh_token),
      401,
      'COMMON.INVALID_REFRESH_TOKEN',
    )
  })
})

describe('seed 003: an expired refresh token', () => {
  test('is refused with 401 COMMON.INVALID_REFRESH_TOKEN', async () => {
    const server = await startTestServer({ tokens: { refreshTokenTtl: 1 } })
    try {
      const c = await server.createClient({ grants: REFRESH_GRANTS })
      const res = await send(server, TOKEN, formBody({ client_id: c.id, client_secret: c.secret }))
      assert.equal(res.status, 200)
      const { refresh_token } = await json(res)
      await sleep(2100)
      await assertRefreshError(
        await refresh(server, REFRESH_ROUTES[0], refresh_token),
        401,
        'COMMON.INVALID_REFRESH_TOKEN',
      )
    } finally {
      await server.stop()
    }
  })
})

describe('seed 003: refresh state outlives a restart', () => {
  test('a spent token stays spent, its reuse still revokes the family, other families still work', async () => {
    let server = await startTestServer()
    const dir = server.dataDir
    try {
      const c = await server.createClient({ grants: REFRESH_GRANTS })
      const login = async () =>
        (await json(await send(server, TOKEN, formBody({ client_id: c.id, client_secret: c.secret }))))
          .refresh_token as string
      const a = await login()
      const other = await login()
      const b = (await json(await refresh(server, REFRESH_ROUTES[0], a))).refresh_token as string
      assert.equal(typeof b, 'string')
      await server.stop({ keepData: true })
      server = await startTestServer({}, dir)
      await assertRefreshError(
        await refresh(server, REFRESH_ROUTES[0], a),
        401,
        'COMMON.INVALID_REFRESH_TOKEN',
      )
      await assertRefreshError(
        await refresh(server, REFRESH_ROUTES[1], b),
        401,
        'COMMON.INVALID_REFRESH_TOKEN',
      )
      await assertTokenAnswer(server, await refresh(server, REFRESH_ROUTES[1], other), c.id)
    } finally {
      await server.stop()
    }
  })
})

describe('seed 003: a client that asks for a token with every call', () => {
  test('keeps its newest refresh families, give or take one trim interval, and their tokens refresh', async () => {
    const server = await startTestServer({ tokens: { refreshFamiliesPerClient: 10 } })
    try {
      const c = await server.createClient({ grants: REFRESH_GRANTS })
      const tokens: string[] = []
      for (let i = 0; i < 130; i++) {
        const res = await send(server, TOKEN, formBody({ client_id: c.id, client_secret: c.secret }))
        tokens.push((await json(res)).refresh_token)
      }
      await server.admin.store.close()
      const db = new DatabaseSync(join(server.dataDir, 'gatehouse.db'))
      const kept = new Set(
        (
          db.prepare('SELECT family_id FROM refresh_families WHERE client_id = ?').all(c.id) as {
            family_id: string
          }[]
        ).map((row) => row.family_id),
      )
      db.close()
      // Trimmed to 10 at the 128th; two more since. The requests fall within a second or two, and
      // within one second the families kept are those with the greatest ids, so which of the
      // older ones went is read from the table.
      assert.equal(kept.size, 12)
      const familyOf = (token: string) => parseRefreshToken(token)!.familyId
      const gone = tokens.filter((token) => !kept.has(familyOf(token)))
      assert.equal(gone.length, 118)
      // The 128th started the trim, before its own family went in; the last two came after it.
      for (const token of tokens.slice(127))
        await assertTokenAnswer(server, await refresh(server, REFRESH_ROUTES[0], token), c.id)
      await assertRefreshError(
        await refresh(server, REFRESH_ROUTES[0], gone[0]!),
        401,
        'COMMON.INVALID_REFRESH_TOKEN',
      )
    } finally {
      await server.stop()
    }
  })
})
