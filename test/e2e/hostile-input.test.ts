/*
 * Hostile input, generated. Every endpoint gets requests mutated from valid ones (fields dropped,
 * repeated or replaced with junk; bodies cut, padded past the limit or swapped for random bytes;
 * other content types, methods, Authorization headers and paths), and raw bytes that are not
 * HTTP at all. Whatever comes in, the answer is a 2xx or a 4xx in the endpoint's own format, never a
 * 5xx; the server logs no error and no secret it was sent, and still issues tokens afterwards.
 *
 * The token path parses forms, Basic headers and JSON by hand for speed; this is what keeps those
 * parsers honest. The generator is seeded, so a failure names its seed and request and
 * `FUZZ_SEED=<seed>` replays it; `FUZZ_COUNT` runs more requests (CI runs the default, a fixed seed).
 */
import assert from 'node:assert/strict'
import { Agent, request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { fuzzSettings, pick, seededRandom } from '../seeded-random.ts'
import {
  createChild,
  createServiceKey,
  FORM,
  formBody,
  JSON_TYPE,
  md5Signature,
  PATHS,
} from './dialects-fixtures.ts'
import { basic, json, startTestServer, type TestServer } from './harness.ts'

const { seed: SEED, count: COUNT } = fuzzSettings({ seed: 0x6a7e_2026, count: 2000 })
const RAW_COUNT = Math.ceil(COUNT / 10)
const IN_FLIGHT = 8

const REFRESHMENT = `${PATHS.refreshBase}/token/refreshment`
const AMSU_TOKEN = `${PATHS.refreshBase}/token`

/** The error shape each path answers in; any other path answers RFC 6749's, as a 404. */
type Shape = 'oauth' | 'signature' | 'amsu'
const SHAPES = new Map<string, Shape>([
  [PATHS.oauth2, 'oauth'],
  [PATHS.servicekey, 'oauth'],
  ['/oauth/introspect', 'oauth'],
  ['/oauth/revoke', 'oauth'],
  [PATHS.signature, 'signature'],
  [AMSU_TOKEN, 'amsu'],
  [REFRESHMENT, 'amsu'],
])
// The token endpoints' own listener sends `Cache-Control: no-store` with every answer, errors included.
const TOKEN_PATHS = new Set([PATHS.oauth2, PATHS.servicekey, PATHS.signature, AMSU_TOKEN, REFRESHMENT])

const COVERED = [
  'oauth 200',
  'oauth 400',
  'oauth 401',
  'oauth 405',
  'oauth 413',
  'signature 200',
  'signature 400',
  'signature 401',
  'amsu 200',
  'amsu 400',
  'amsu 401',
  'other 404',
]

interface Probe {
  method: string
  path: string
  headers: [string, string][]
  body: Buffer
}

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

describe('hostile input: generated requests to every endpoint', () => {
  let server: TestServer
  const secrets: string[] = []
  let plain: { id: string; secret: string }
  let templates: ((next: () => number) => Probe)[]

  before(async () => {
    server = await startTestServer({
      rateLimit: { failuresPerClient: 1_000_000, failuresPerAddress: 1_000_000 },
    })
    plain = await server.createClient({ grants: ['client_credentials', 'refresh_token'] })
    const parent = await server.createClient({ grants: ['client_credentials', 'csp_credentials'] })
    const child = await createChild(server, parent.id)
    const signer = await server.createClient({ signature: true })
    const service = await server.createClient({
      isPublic: true,
      grants: ['servicekey'],
      scopes: ['prices.read'],
    })
    const key = await createServiceKey(server, { clientId: service.id, serviceName: 'prices' })
    secrets.push(plain.secret, parent.secret, child.childSecret, signer.secret, key.serviceKey)

    const issued = await json(
      await server.form(AMSU_TOKEN, { client_id: plain.id, client_secret: plain.secret }),
    )
    assert.equal(typeof issued.refresh_token, 'string')
    const accessToken: string = issued.access_token
    const refreshToken: string = issued.refresh_token
    secrets.push(refreshToken)

    const auth = (id: string, secret: string): [string, string] => ['authorization', basic(id, secret)]
    const form =
      (path: string, fields: Record<string, string>, authorization?: [string, string], method = 'POST') =>
      () => ({
        method,
        path,
        headers: [['content-type', FORM], ...(authorization ? [authorization] : [])] as [string, string][],
        body: Buffer.from(formBody(fields)),
      })
    let clock = Date.now()
    templates = [
      form(
        PATHS.oauth2,
        { grant_type: 'client_credentials', scope: 'prices.read' },
        auth(plain.id, plain.secret),
      ),
      form(PATHS.oauth2, {
        grant_type: 'client_credentials',
        client_id: plain.id,
        client_secret: plain.secret,
      }),
      form(
        PATHS.oauth2,
        { grant_type: 'csp_credentials', child_key: child.childKey, child_secret: child.childSecret },
        auth(parent.id, parent.secret),
      ),
      form(
        PATHS.oauth2,
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        auth(plain.id, plain.secret),
      ),
      form(PATHS.oauth2, {
        grant_type: 'client_credentials',
        client_id: plain.id,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: accessToken,
      }),
      form(PATHS.servicekey, {
        grant_type: 'servicekey',
        client_id: service.id,
        scope: 'prices.read',
        serviceName: key.serviceName,
        serviceKey: key.serviceKey,
      }),
      (next) => {
        // Now and then the time before again: a replay, refused as a wrong signature is.
        if (next() > 0.2) clock += 1
        const body = {
          clientId: signer.id,
          time: clock,
          signature: md5Signature(signer.id, clock, signer.secret),
        }
        return {
          method: 'POST',
          path: PATHS.signature,
          headers: [['content-type', JSON_TYPE]],
          body: Buffer.from(JSON.stringify(body)),
        }
      },
      form(AMSU_TOKEN, { client_id: plain.id, client_secret: plain.secret }),
      form(AMSU_TOKEN, { refresh_token: refreshToken }, undefined, 'PUT'),
      form(REFRESHMENT, { refresh_token: refreshToken }),
      form('/oauth/introspect', { token: accessToken }, auth(plain.id, plain.secret)),
      form(
        '/oauth/revoke',
        { token: refreshToken, token_type_hint: 'refresh_token' },
        auth(plain.id, plain.secret),
      ),
      (next) => ({
        method: 'GET',
        path: pick(next, [
          '/.well-known/openid-configuration',
          '/.well-known/jwks.json',
          '/healthz',
          '/readyz',
          '/metrics',
        ]),
        headers: [],
        body: Buffer.alloc(0),
      }),
    ]
  })
  after(() => server.stop())

  test(`${COUNT} mutated requests and ${RAW_COUNT} raw ones (seed ${SEED}): no 5xx, each error in its endpoint's shape`, async (t) => {
    const next = seededRandom(SEED)
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT })
    const probes = Array.from({ length: COUNT }, () => mutate(pick(next, templates)(next), next))
    const failures: string[] = []
    const outcomes = new Map<string, number>()
    let cursor = 0
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (cursor < probes.length && failures.length < 5) {
          const index = cursor++
          const probe = probes[index]!
          const problem = await send(server.url, probe, agent).then(
            (answer) => {
              const outcome = `${SHAPES.get(probe.path) ?? 'other'} ${answer.status}`
              outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
              return check(probe, answer)
            },
            (error: Error) => `no answer node:http could read: ${error.message}`,
          )
          if (problem) failures.push(`#${index} ${problem}\n  request: ${describeProbe(probe)}`)
        }
      }),
    )
    agent.destroy()
    for (let index = 0; index < RAW_COUNT && failures.length < 5; index++) {
      const bytes = rawRequest(next)
      const problem = checkRaw(await sendRaw(server.url, bytes))
      if (problem)
        failures.push(
          `raw #${index} ${problem}\n  bytes: ${JSON.stringify(bytes.toString('latin1').slice(0, 300))}`,
        )
    }
    assert.deepEqual(failures, [], `seed ${SEED} (FUZZ_SEED=${SEED} replays it)`)
    t.diagnostic(
      `answers by endpoint shape and status: ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`,
    )
    // The mix must reach past the first check of each endpoint: tokens issued, and each kind of refusal.
    for (const outcome of COVERED) assert.ok(outcomes.has(outcome), `no request got ${outcome}`)

    const errors = server.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50)
    assert.deepEqual(errors, [], 'no error is logged')
    for (const secret of secrets) {
      assert.equal(
        server.logs.some((line) => line.includes(secret)),
        false,
        'no secret, service key or refresh token reaches the log',
      )
    }
    const still = await server.form(
      PATHS.oauth2,
      { grant_type: 'client_credentials' },
      { auth: [plain.id, plain.secret] },
    )
    assert.equal(still.status, 200, 'the server still issues tokens')
  })
})

// ---------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------

const JUNK_STRINGS = [
  '',
  ' ',
  '%',
  '%E0%A4%A',
  '%zz',
  '%00',
  '+',
  '=',
  '&&&',
  '\u0000',
  '\uFFFD',
  '\uD800',
  '😀',
  'null',
  '-1',
  '1e309',
  '9'.repeat(400),
  'a'.repeat(5000),
  '__proto__',
  'constructor',
  '../../etc/passwd',
  '<script>',
  '{"a":',
  'Basic',
  'eyJhbGciOiJub25lIn0.eyJ9.',
]

const JUNK_JSON: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  '',
  '17000000000000',
  ' 1700000000',
  '0x10',
  '1700000000.5',
  [],
  [1, 2],
  {},
  { a: { b: { c: [] } } },
  'a'.repeat(3000),
]

const CONTENT_TYPES = [
  FORM,
  `${FORM}; charset=utf-8`,
  `${FORM}; charset=utf-16`,
  'APPLICATION/X-WWW-FORM-URLENCODED',
  JSON_TYPE,
  `${JSON_TYPE}; charset=latin1`,
  'application/json-patch+json',
  'text/plain',
  'multipart/form-data; boundary=x',
  '',
  ';',
  'application/x-www-form-urlencoded, application/json',
]

const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS']

function junkString(next: () => number): string {
  if (next() < 0.7) return pick(next, JUNK_STRINGS)
  return randomBytes(next, Math.floor(next() * 64)).toString('latin1')
}

/** Junk for a form field: percent-encoded, or as it is a third of the time; both reach the parser. */
function formJunk(next: () => number): string {
  const junk = junkString(next)
  return next() < 0.33 ? junk : encodeURIComponent(junk.toWellFormed())
}

function randomBytes(next: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length)
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(next() * 256)
  return bytes
}

/** A header value node:http will send: visible ASCII, spaces and latin-1, no line breaks. */
function headerSafe(value: string): string {
  return value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?')
}

function mutate(probe: Probe, next: () => number): Probe {
  // A quarter go out as they are: valid requests, interleaved with the rest, must still succeed or be
  // refused for what they are (a spent refresh token, a replayed signature).
  const rounds = Math.floor(next() * 4)
  let current = probe
  for (let i = 0; i < rounds; i++) current = pick(next, MUTATIONS)(current, next)
  return current
}

type Mutation = (probe: Probe, next: () => number) => Probe

const MUTATIONS: Mutation[] = [
  // Form fields: dropped, repeated, renamed, or given junk values.
  (probe, next) => editForm(probe, next, (pairs) => pairs.filter(() => next() > 0.4)),
  (probe, next) => editForm(probe, next, (pairs) => (pairs.length ? [...pairs, pick(next, pairs)] : pairs)),
  (probe, next) =>
    editForm(probe, next, (pairs) => pairs.map(([k, v]) => (next() < 0.4 ? [k, formJunk(next)] : [k, v]))),
  (probe, next) =>
    editForm(probe, next, (pairs) => pairs.map(([k, v]) => (next() < 0.3 ? [formJunk(next), v] : [k, v]))),
  (probe, next) => editForm(probe, next, (pairs) => [...pairs, [formJunk(next), formJunk(next)]]),
  (probe, next) => editForm(probe, next, (pairs) => pairs.map(([k]) => [k, ''])),
  // JSON members: retyped, removed, or the whole body another JSON value.
  (probe, next) =>
    editJson(probe, (value) => {
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const object = value as Record<string, unknown>
        const key = pick(next, [...Object.keys(object), '__proto__', 'constructor', 'extra'])
        object[key] = structuredClone(pick(next, JUNK_JSON))
      }
      return value
    }),
  (probe, next) =>
    editJson(probe, (value) => {
      if (value && typeof value === 'object')
        delete (value as Record<string, unknown>)[pick(next, Object.keys(value))]
      return value
    }),
  (probe, next) =>
    editJson(probe, (value) => (next() < 0.5 ? [value] : structuredClone(pick(next, JUNK_JSON)))),
  (probe) => ({ ...probe, body: Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`) }),
  // Raw bodies: cut, spliced with bytes, replaced, bloated past the limit or to its edge.
  (probe, next) => ({ ...probe, body: probe.body.subarray(0, Math.floor(next() * probe.body.length)) }),
  (probe, next) => {
    const at = Math.floor(next() * (probe.body.length + 1))
    return {
      ...probe,
      body: Buffer.concat([
        probe.body.subarray(0, at),
        randomBytes(next, 1 + Math.floor(next() * 16)),
        probe.body.subarray(at),
      ]),
    }
  },
  (probe, next) => ({ ...probe, body: randomBytes(next, Math.floor(next() * 2048)) }),
  (probe) => ({ ...probe, body: Buffer.concat([probe.body, Buffer.alloc(70 * 1024, 'a')]) }),
  (probe) => ({
    ...probe,
    body: Buffer.concat([
      probe.body,
      Buffer.from('&pad='),
      Buffer.alloc(Math.max(0, 64 * 1024 - probe.body.length - 5), 'b'),
    ]),
  }),
  (probe) => ({ ...probe, body: Buffer.from([0xff, 0xfe, 0xc3, 0x28, ...probe.body]) }),
  // Headers: content type, Authorization and their repeats; the method; the path.
  (probe, next) => setHeader(probe, 'content-type', pick(next, CONTENT_TYPES)),
  (probe) => ({ ...probe, headers: probe.headers.filter(([name]) => name !== 'content-type') }),
  (probe, next) => ({ ...probe, headers: [...probe.headers, ['content-type', pick(next, CONTENT_TYPES)]] }),
  (probe, next) =>
    setHeader(
      probe,
      'authorization',
      headerSafe(
        pick(next, [
          `Basic ${Buffer.from(junkString(next), 'latin1').toString('base64')}`,
          `Basic ${Buffer.from(`${junkString(next)}:${junkString(next)}`, 'latin1').toString('base64')}`,
          `Basic ${junkString(next)}`,
          'Basic',
          'Basic ',
          'Basic ====',
          `Bearer ${junkString(next)}`,
          `basic ${Buffer.from('a:b').toString('base64')}`,
          `Basic ${'A'.repeat(6000)}`,
          junkString(next),
        ]),
      ),
    ),
  (probe) => ({ ...probe, headers: [...probe.headers, ['authorization', 'Basic YTpi']] }),
  (probe, next) => ({
    ...probe,
    headers: [...probe.headers, ['x-request-id', headerSafe(junkString(next))]],
  }),
  (probe, next) => ({ ...probe, method: pick(next, METHODS) }),
  (probe, next) => ({
    ...probe,
    path: pick(next, [
      `${probe.path}?grant_type=client_credentials`,
      `${probe.path}?${encodeURIComponent(junkString(next).toWellFormed())}`,
      `${probe.path}/`,
      probe.path.toUpperCase(),
      `/${probe.path}`,
      `/${probe.path.slice(1).replaceAll('/', '%2F')}`,
      `${probe.path}/..`,
      `${probe.path}${'/x'.repeat(2000)}`,
      `${probe.path}#fragment`,
    ]),
  }),
]

function setHeader(probe: Probe, name: string, value: string): Probe {
  return { ...probe, headers: [...probe.headers.filter(([n]) => n !== name), [name, value]] }
}

function editForm(
  probe: Probe,
  next: () => number,
  edit: (pairs: [string, string][]) => [string, string][],
): Probe {
  const text = probe.body.toString('utf8')
  if (text.startsWith('{') || text.length === 0)
    return { ...probe, body: Buffer.from(junkString(next), 'latin1') }
  const pairs = text.split('&').map((pair): [string, string] => {
    const at = pair.indexOf('=')
    return at === -1 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)]
  })
  return {
    ...probe,
    body: Buffer.from(
      edit(pairs)
        .map(([k, v]) => `${k}=${v}`)
        .join('&'),
    ),
  }
}

function editJson(probe: Probe, edit: (value: unknown) => unknown): Probe {
  let value: unknown
  try {
    value = JSON.parse(probe.body.toString('utf8'))
  } catch {
    value = { body: probe.body.toString('latin1') }
  }
  try {
    return { ...probe, body: Buffer.from(JSON.stringify(edit(value)) ?? 'undefined') }
  } catch {
    return probe // nested too deep for JSON.stringify: the body stays as it was
  }
}

// ---------------------------------------------------------------------------------------
// Sending and checking
// ---------------------------------------------------------------------------------------

function send(base: string, probe: Probe, agent: Agent): Promise<Answer> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method: probe.method, path: probe.path, agent })
    for (const [name, value] of groupHeaders(probe.headers)) req.setHeader(name, value)
    // node:http frames a GET or HEAD body only when told its length; unframed, the server would read it as
    // the next request (a 400 that test is not about).
    if (probe.body.length > 0) req.setHeader('content-length', probe.body.length)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(probe.body.length > 0 ? probe.body : undefined)
  })
}

/** Repeated headers as arrays, which node:http sends as separate lines. */
function groupHeaders(headers: [string, string][]): Map<string, string | string[]> {
  const grouped = new Map<string, string | string[]>()
  for (const [name, value] of headers) {
    const before = grouped.get(name)
    grouped.set(name, before === undefined ? value : [...[before].flat(), value])
  }
  return grouped
}

function check(probe: Probe, answer: Answer): string | undefined {
  const said = `answered ${answer.status} ${answer.body.slice(0, 200)}`
  if (answer.status >= 500 || answer.status < 200) return `a ${answer.status}: ${said}`
  const path = probe.path.split('?')[0]!
  if (TOKEN_PATHS.has(path) && answer.headers['cache-control'] !== 'no-store')
    return `no Cache-Control: no-store; ${said}`
  if (answer.status < 400 || probe.method === 'HEAD') return undefined
  let body: unknown
  try {
    body = JSON.parse(answer.body)
  } catch {
    return `an error that is not JSON; ${said}`
  }
  const shape = answer.status === 404 ? 'oauth' : (SHAPES.get(path) ?? 'oauth')
  return shapeProblem(shape, answer.status, body) ? `not in the ${shape} error shape; ${said}` : undefined
}

function shapeProblem(shape: Shape, status: number, body: unknown): boolean {
  const b = body as Record<string, unknown> | null
  if (!b || typeof b !== 'object' || Array.isArray(b)) return true
  switch (shape) {
    case 'oauth':
      return (
        typeof b.error !== 'string' ||
        (b.error_description !== undefined && typeof b.error_description !== 'string')
      )
    case 'signature':
      return b.code !== status || b.data !== null || b.success !== false || typeof b.msg !== 'string'
    case 'amsu': {
      const error = b.error as Record<string, unknown> | undefined
      return (
        !error ||
        typeof error.code !== 'string' ||
        !error.code.startsWith('COMMON.') ||
        typeof error.msg !== 'string'
      )
    }
  }
}

function describeProbe(probe: Probe): string {
  return JSON.stringify({
    method: probe.method,
    path: probe.path.slice(0, 200),
    headers: probe.headers.map(([n, v]) => [n, v.slice(0, 100)]),
    body: probe.body.toString('latin1').slice(0, 300),
  })
}

/** Bytes that are not quite HTTP: junk, broken request lines, lying lengths, bad chunks. */
function rawRequest(next: () => number): Buffer {
  const path = pick(next, [PATHS.oauth2, PATHS.signature, AMSU_TOKEN, '/oauth/introspect', '/healthz'])
  const junk = randomBytes(next, 1 + Math.floor(next() * 200))
  const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${FORM}\r\n`
  return Buffer.concat([
    Buffer.from(
      pick(next, [
        '',
        `${head}`,
        `${head}Content-Length: -1\r\n\r\n`,
        `${head}Content-Length: abc\r\n\r\n`,
        `${head}Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef`,
        `${head}Transfer-Encoding: chunked\r\n\r\nzz\r\n`,
        `${head}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
        `${head}X-Long: ${'a'.repeat(20_000)}\r\n\r\n`,
        `POST ${path} HTTP/9.9\r\n\r\n`,
        `P\0ST ${path} HTTP/1.1\r\n\r\n`,
        `${head}Content-Length: 2\r\n\r\nabGET / HTTP/1.1\r\n`,
      ]),
      'latin1',
    ),
    next() < 0.5 ? junk : Buffer.alloc(0),
  ])
}

/** Writes the bytes, half-closes, and collects whatever comes back until the server closes. */
function sendRaw(base: string, bytes: Buffer): Promise<string> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) })
    const chunks: Buffer[] = []
    const done = () => resolve(Buffer.concat(chunks).toString('latin1'))
    socket.setTimeout(5_000, () => socket.destroy())
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('close', done)
    socket.on('error', () => {})
    socket.end(bytes)
  })
}

function checkRaw(answer: string): string | undefined {
  for (const [, status] of answer.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)) {
    if (Number(status) >= 500) return `a ${status}: ${JSON.stringify(answer.slice(0, 300))}`
  }
  if (answer.length > 0 && !answer.startsWith('HTTP/1.1 '))
    return `not HTTP: ${JSON.stringify(answer.slice(0, 300))}`
  return undefined
}
