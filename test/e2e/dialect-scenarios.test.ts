/*
 * One scenario table through all five token endpoints: the standard one and the four seed
 * dialects. Each row is a situation (valid request, wrong secret, unknown client, …); each
 * column an endpoint; each cell the HTTP status and the dialect's own code. The rules are
 * the same everywhere (SPEC "Token endpoints"): only the wire shape differs, and this table
 * shows it cell by cell.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  createChild,
  createServiceKey,
  FORM,
  formBody,
  JSON_TYPE,
  NO_RATE_LIMIT,
  PATHS,
  send,
  signedBody,
  verifyAccessToken,
  waitForChangeFeed,
} from './dialects-fixtures.ts'
import { startTestServer, type TestServer } from './harness.ts'

const CASES = [
  'valid',
  'wrong secret',
  'unknown client',
  'disabled client',
  'scope not allowed',
  'wrong second credential',
] as const
type Case = (typeof CASES)[number]

const ENDPOINTS = ['oauth2', 'servicekey', 'signature', 'parent-child', 'refresh'] as const
type Endpoint = (typeof ENDPOINTS)[number]

/**
 * `code` is what the dialect itself says: on success the token type (or the seed 001 `code`),
 * on failure the error code. `na` says why a situation cannot be expressed on that wire.
 */
type Cell = { status: number; code: string | number } | { na: string }

const NO_SCOPE_SIGNATURE = 'n/a: seed 001 has no scope parameter; the token carries all of the client scopes'
const NO_SCOPE_REFRESH = 'n/a: seed 003 /token has no scope field; the token carries all of the client scopes'
const NO_SECOND = 'n/a: this endpoint has no second credential (no service key, no child)'
const NO_SECOND_OAUTH2 =
  'n/a: client_credentials has no second credential (the child grants on this path are the parent-child column)'

const TABLE: Record<Endpoint, Record<Case, Cell>> = {
  oauth2: {
    valid: { status: 200, code: 'bearer' },
    'wrong secret': { status: 401, code: 'invalid_client' },
    'unknown client': { status: 401, code: 'invalid_client' },
    'disabled client': { status: 401, code: 'invalid_client' },
    'scope not allowed': { status: 400, code: 'invalid_scope' },
    'wrong second credential': { na: NO_SECOND_OAUTH2 },
  },
  servicekey: {
    valid: { status: 200, code: 'Bearer' },
    'wrong secret': { status: 401, code: 'invalid_client' },
    'unknown client': { status: 401, code: 'invalid_client' },
    'disabled client': { status: 401, code: 'invalid_client' },
    'scope not allowed': { status: 400, code: 'invalid_scope' },
    'wrong second credential': { status: 400, code: 'invalid_grant' },
  },
  signature: {
    valid: { status: 200, code: 200 },
    'wrong secret': { status: 401, code: 401 },
    'unknown client': { status: 401, code: 401 },
    'disabled client': { status: 401, code: 401 },
    'scope not allowed': { na: NO_SCOPE_SIGNATURE },
    'wrong second credential': { na: NO_SECOND },
  },
  'parent-child': {
    valid: { status: 200, code: 'bearer' },
    'wrong secret': { status: 401, code: 'invalid_client' },
    'unknown client': { status: 401, code: 'invalid_client' },
    'disabled client': { status: 401, code: 'invalid_client' },
    'scope not allowed': { status: 400, code: 'invalid_scope' },
    'wrong second credential': { status: 400, code: 'invalid_grant' },
  },
  refresh: {
    valid: { status: 200, code: 'bearer' },
    'wrong secret': { status: 401, code: 'COMMON.AUTHENTICATION_FAILED' },
    'unknown client': { status: 401, code: 'COMMON.AUTHENTICATION_FAILED' },
    'disabled client': { status: 401, code: 'COMMON.AUTHENTICATION_FAILED' },
    'scope not allowed': { na: NO_SCOPE_REFRESH },
    'wrong second credential': { na: NO_SECOND },
  },
}

interface Credentials {
  id: string
  secret: string
  /** The service key or child of this client, where the endpoint has one. */
  second?: { name: string; secret: string }
}

interface Attempt {
  who: Credentials
  scope?: string
  badSecond?: boolean
}

/** How each endpoint is spoken to and how its answers are read. */
interface Wire {
  grants: string[]
  signature?: boolean
  makeSecond?(server: TestServer, clientId: string): Promise<{ name: string; secret: string }>
  request(server: TestServer, attempt: Attempt): Promise<Response>
  /** The token of a success answer. */
  token(body: Record<string, unknown>): string
  /** What the table's `code` compares with. */
  code(status: number, body: Record<string, unknown>): unknown
}

const rfcCode = (status: number, body: Record<string, unknown>) =>
  status === 200 ? body.token_type : body.error

const WIRES: Record<Endpoint, Wire> = {
  oauth2: {
    grants: ['client_credentials'],
    request: (server, { who, scope }) =>
      send(
        server,
        PATHS.oauth2,
        formBody({
          grant_type: 'client_credentials',
          client_id: who.id,
          client_secret: who.secret,
          ...(scope ? { scope } : {}),
        }),
      ),
    token: (body) => body.access_token as string,
    code: rfcCode,
  },
  servicekey: {
    grants: ['servicekey'],
    makeSecond: async (server, clientId) => {
      const k = await createServiceKey(server, { clientId, serviceName: `svc-${clientId}` })
      return { name: k.serviceName, secret: k.serviceKey }
    },
    request: (server, { who, scope, badSecond }) =>
      send(
        server,
        PATHS.servicekey,
        formBody({
          grant_type: 'servicekey',
          client_id: who.id,
          client_secret: who.secret,
          scope: scope ?? 'prices.read',
          serviceName: who.second?.name ?? 'svc-unknown',
          serviceKey: `${who.second?.secret ?? 'unknown-service-key'}${badSecond ? 'x' : ''}`,
        }),
      ),
    token: (body) => body.access_token as string,
    code: rfcCode,
  },
  signature: {
    grants: ['client_credentials'],
    signature: true,
    request: (server, { who }) =>
      send(server, PATHS.signature, JSON.stringify(signedBody(who.id, who.secret)), {
        contentType: JSON_TYPE,
      }),
    token: (body) => (body.data as { accessToken: string }).accessToken,
    code: (_status, body) => body.code,
  },
  'parent-child': {
    grants: ['csp_credentials'],
    makeSecond: async (server, clientId) => {
      const c = await createChild(server, clientId)
      return { name: c.childKey, secret: c.childSecret }
    },
    request: (server, { who, scope, badSecond }) =>
      send(
        server,
        PATHS.oauth2,
        formBody({
          grant_type: 'csp_credentials',
          client_id: who.id,
          client_secret: who.secret,
          child_key: who.second?.name ?? 'unknown-child',
          child_secret: `${who.second?.secret ?? 'unknown-child-secret'}${badSecond ? 'x' : ''}`,
          ...(scope ? { scope } : {}),
        }),
      ),
    token: (body) => body.access_token as string,
    code: rfcCode,
  },
  refresh: {
    grants: ['client_credentials', 'refresh_token'],
    request: (server, { who }) =>
      send(server, `${PATHS.refreshBase}/token`, formBody({ client_id: who.id, client_secret: who.secret }), {
        contentType: FORM,
      }),
    token: (body) => body.access_token as string,
    code: (status, body) => (status === 200 ? body.token_type : (body.error as { code?: unknown })?.code),
  },
}

describe('scenario table: the same rules through all five token endpoints', () => {
  let server: TestServer
  const good = {} as Record<Endpoint, Credentials>
  const disabled = {} as Record<Endpoint, Credentials>
  /** What each endpoint actually answered, by case: checked against each other at the end. */
  const seen = new Map<Case, Map<Endpoint, number>>()

  before(async () => {
    server = await startTestServer(NO_RATE_LIMIT)
    for (const endpoint of ENDPOINTS) {
      const wire = WIRES[endpoint]
      const make = async (): Promise<Credentials> => {
        const c = await server.createClient({
          scopes: ['prices.read'],
          grants: wire.grants,
          ...(wire.signature ? { signature: true } : {}),
        })
        return { ...c, ...(wire.makeSecond ? { second: await wire.makeSecond(server, c.id) } : {}) }
      }
      good[endpoint] = await make()
      disabled[endpoint] = await make()
      await server.admin.clients.setEnabled(disabled[endpoint].id, false)
    }
    await waitForChangeFeed()
  })
  after(() => server.stop())

  function attempt(endpoint: Endpoint, c: Case): Attempt {
    const who = good[endpoint]
    switch (c) {
      case 'valid':
        return { who }
      case 'wrong secret':
        return { who: { ...who, secret: `${who.secret}x` } }
      case 'unknown client':
        return { who: { ...who, id: `no-such-client-${endpoint}`, secret: 'some-secret-value' } }
      case 'disabled client':
        return { who: disabled[endpoint] }
      case 'scope not allowed':
        return { who, scope: 'prices.write' }
      case 'wrong second credential':
        return { who, badSecond: true }
    }
  }

  for (const c of CASES) {
    describe(c, () => {
      for (const endpoint of ENDPOINTS) {
        const cell = TABLE[endpoint][c]
        if ('na' in cell) {
          test(`${endpoint}`, { skip: cell.na }, () => {})
          continue
        }
        test(`${endpoint}: ${cell.status} ${cell.code}`, async () => {
          const wire = WIRES[endpoint]
          const res = await wire.request(server, attempt(endpoint, c))
          const text = await res.text()
          const body = JSON.parse(text)
          const row = seen.get(c) ?? new Map<Endpoint, number>()
          seen.set(c, row)
          row.set(endpoint, res.status)
          assert.equal(res.status, cell.status, `${endpoint} / ${c}: ${text}`)
          assert.equal(wire.code(res.status, body), cell.code, `${endpoint} / ${c}: ${text}`)
          assert.equal(res.headers.get('cache-control'), 'no-store')
          if (res.status === 200) {
            const { payload } = await verifyAccessToken(server, wire.token(body))
            assert.equal(payload.client_id, good[endpoint].id)
            assert.equal(payload.scope, 'prices.read')
          }
        })
      }
    })
  }

  test('every endpoint that can express a case answers it with the same HTTP status', () => {
    for (const c of CASES) {
      const expected = new Set(
        ENDPOINTS.map((e) => TABLE[e][c]).flatMap((cell) => ('na' in cell ? [] : [cell.status])),
      )
      assert.equal(expected.size, 1, `the table itself agrees on ${c}`)
      const row = seen.get(c)
      assert.ok(row, `case ${c} ran`)
      assert.deepEqual(new Set(row.values()), expected, `${c}: ${JSON.stringify([...row])}`)
    }
  })

  describe('an unknown client, a wrong secret and a disabled client are indistinguishable', () => {
    for (const endpoint of ENDPOINTS) {
      test(endpoint, async () => {
        const wire = WIRES[endpoint]
        const answers = await Promise.all(
          (['wrong secret', 'unknown client', 'disabled client'] as const).map(async (c) => {
            const res = await wire.request(server, attempt(endpoint, c))
            return { status: res.status, body: await res.json() }
          }),
        )
        assert.deepEqual(answers[1], answers[0], 'unknown client vs wrong secret')
        assert.deepEqual(answers[2], answers[0], 'disabled client vs wrong secret')
      })
    }
  })
})

/** What each endpoint answers once the limiter trips: the same 429 and Retry-After, in its own format. */
const RATE_LIMITED: Record<Endpoint, string | number> = {
  oauth2: 'too_many_requests',
  servicekey: 'too_many_requests',
  signature: 429,
  'parent-child': 'too_many_requests',
  refresh: 'COMMON.RATE_LIMITED',
}

async function assertRateLimited(res: Response, wire: Wire, code: string | number, label: string) {
  const text = await res.text()
  assert.equal(res.status, 429, `${label}: ${text}`)
  assert.ok(Number(res.headers.get('retry-after')) > 0, `${label}: Retry-After`)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  assert.equal(wire.code(429, JSON.parse(text)), code, `${label}: ${text}`)
}

describe('scenario table: rate limiting through all five token endpoints', () => {
  describe('after failuresPerClient wrong secrets, even the right one gets 429', () => {
    let server: TestServer
    before(async () => {
      server = await startTestServer({ rateLimit: { failuresPerClient: 3, failuresPerAddress: 1000 } })
    })
    after(() => server.stop())

    for (const endpoint of ENDPOINTS) {
      test(`${endpoint}: 429 ${RATE_LIMITED[endpoint]}`, async () => {
        const wire = WIRES[endpoint]
        const c = await server.createClient({
          scopes: ['prices.read'],
          grants: wire.grants,
          ...(wire.signature ? { signature: true } : {}),
        })
        const who: Credentials = {
          ...c,
          ...(wire.makeSecond ? { second: await wire.makeSecond(server, c.id) } : {}),
        }
        for (let i = 0; i < 3; i++) {
          const res = await wire.request(server, { who: { ...who, secret: `${who.secret}x` } })
          assert.equal(res.status, 401)
          await res.arrayBuffer()
        }
        await assertRateLimited(await wire.request(server, { who }), wire, RATE_LIMITED[endpoint], endpoint)
      })
    }
  })

  /*
   * A service key is the only secret a public client has, and a child secret is a customer's
   * credential: guessing either is a failed attempt like a wrong client secret, and must run
   * into the per-address limit (SPEC: "too many failed attempts … from one address: 429").
   */
  describe('after failuresPerAddress wrong second credentials, the address gets 429', () => {
    /** A public service-key client on a server of these limits, and `guesses` wrong keys sent for it. */
    async function guessedServiceKey(
      limits: { failuresPerClient: number; failuresPerAddress: number },
      guesses: number,
    ) {
      const server = await startTestServer({ rateLimit: limits })
      const c = await server.createClient({ isPublic: true, grants: ['servicekey'], scopes: ['prices.read'] })
      const key = await createServiceKey(server, { clientId: c.id, serviceName: 'svc' })
      const fields = { grant_type: 'servicekey', client_id: c.id, serviceName: key.serviceName }
      for (let i = 0; i < guesses; i++) {
        const res = await send(server, PATHS.servicekey, formBody({ ...fields, serviceKey: `guess-${i}` }))
        assert.equal(res.status, 400)
        await res.arrayBuffer()
      }
      const right = () => send(server, PATHS.servicekey, formBody({ ...fields, serviceKey: key.serviceKey }))
      return { server, right }
    }

    test('servicekey: guessing the service key of a public client', async () => {
      const { server, right } = await guessedServiceKey({ failuresPerClient: 1000, failuresPerAddress: 3 }, 3)
      try {
        await assertRateLimited(await right(), WIRES.servicekey, 'too_many_requests', 'servicekey')
      } finally {
        await server.stop()
      }
    })

    test('servicekey: wrong keys under a public client id count against the address, not the client', async () => {
      // A public client's id is no secret: counted per client, anyone could lock its services out.
      const { server, right } = await guessedServiceKey({ failuresPerClient: 3, failuresPerAddress: 1000 }, 5)
      try {
        const res = await right()
        assert.equal(res.status, 200, await res.text())
      } finally {
        await server.stop()
      }
    })

    test('parent-child: guessing a child secret', async () => {
      const server = await startTestServer({ rateLimit: { failuresPerClient: 1000, failuresPerAddress: 3 } })
      try {
        const c = await server.createClient({ grants: ['csp_credentials'], scopes: ['prices.read'] })
        const kid = await createChild(server, c.id)
        const fields = {
          grant_type: 'csp_credentials',
          client_id: c.id,
          client_secret: c.secret,
          child_key: kid.childKey,
        }
        for (let i = 0; i < 3; i++) {
          const res = await send(server, PATHS.oauth2, formBody({ ...fields, child_secret: `guess-${i}` }))
          assert.equal(res.status, 400)
          await res.arrayBuffer()
        }
        const res = await send(server, PATHS.oauth2, formBody({ ...fields, child_secret: kid.childSecret }))
        await assertRateLimited(res, WIRES['parent-child'], 'too_many_requests', 'parent-child')
      } finally {
        await server.stop()
      }
    })

    test('refresh: guessing refresh tokens', async () => {
      const server = await startTestServer({ rateLimit: { failuresPerClient: 1000, failuresPerAddress: 3 } })
      try {
        for (let i = 0; i < 3; i++) {
          const res = await send(
            server,
            `${PATHS.refreshBase}/token`,
            formBody({ refresh_token: `guess-${i}` }),
            {
              method: 'PUT',
            },
          )
          assert.equal(res.status, 401)
          await res.arrayBuffer()
        }
        const res = await send(server, `${PATHS.refreshBase}/token`, formBody({ refresh_token: 'guess-x' }), {
          method: 'PUT',
        })
        await assertRateLimited(res, WIRES.refresh, 'COMMON.RATE_LIMITED', 'refresh')
      } finally {
        await server.stop()
      }
    })
  })
})
