// The load driver: identical keep-alive POSTs at a fixed connection count, via wrk when it is installed
// (it costs the machine less CPU per request) and autocannon otherwise.
import { execFile, execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import autocannon from 'autocannon'

export type DriverName = 'wrk' | 'autocannon'

// One wrk thread keeps 50 connections busy at well over the floor's rate; a second one only takes CPU from the
// server under test on a two-core machine (in one sitting, ES256 at 0.93 × the floor with one and 0.77 × with
// two: `git show a591719:BENCHMARKS.md`). BENCH_WRK_THREADS overrides it.
const WRK_THREADS = Math.max(1, Number(process.env.BENCH_WRK_THREADS ?? 1) || 1)

export interface TokenRequest {
  url: string
  headers: Record<string, string>
  body: string
}

// RFC 6749 §2.3.1: form-encode id and secret before joining them for Basic auth.
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+')
}

export function tokenRequest(baseUrl: string, clientId: string, clientSecret: string): TokenRequest {
  const basic = Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')
  return {
    url: `${baseUrl}/oauth/token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
    body: 'grant_type=client_credentials',
  }
}

export interface LoadResult {
  // Valid answers per second: a fast 401 must not look like throughput.
  rps: number
  p50Ms: number
  p99Ms: number
  requests: number
  errors: number
  detail: { non2xx: number; socket: number; timeouts: number; invalidBody: number }
  durationSec: number
  // The server's CPU per request during the run (see cpu.ts), when its process could be read.
  cpu?: { totalUs: number; mainUs: number }
}

export function detectDriver(): DriverName {
  try {
    execFileSync('which', ['wrk'], { stdio: 'ignore' })
    return 'wrk'
  } catch {
    return 'autocannon'
  }
}

// Full signature checks on every answer would make the driver the bottleneck; the shape is checked here and
// a sample is verified cryptographically around each load (see verify.ts).
export const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/
export function looksLikeTokenResponse(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>
    return (
      typeof parsed.access_token === 'string' &&
      JWT_SHAPE.test(parsed.access_token) &&
      typeof parsed.token_type === 'string' &&
      parsed.token_type.toLowerCase() === 'bearer' &&
      typeof parsed.expires_in === 'number'
    )
  } catch {
    return false
  }
}

export async function runLoad(
  driver: DriverName,
  request: TokenRequest,
  connections: number,
  durationSec: number,
  workDir: string,
): Promise<LoadResult> {
  return driver === 'wrk'
    ? runWrk(request, connections, durationSec, workDir)
    : runAutocannon(request, connections, durationSec)
}

// What one run repeats. Dialects whose requests change every time (a fresh signature, the refresh token of the
// previous answer) supply `requests` or a per-connection `setupClient`, which only autocannon can run; the rest
// repeat one body, optionally with one header taking the next of `rotate.values` on every request, which both
// drivers can run.
export interface CannonPlan {
  url: string
  method: 'POST' | 'PUT'
  headers: Record<string, string>
  body?: string
  rotate?: { header: string; values: readonly string[] }
  requests?: autocannon.Request[]
  setupClient?: (client: autocannon.Client) => void
  // For a plan whose every request carries a body of its own (signed, single-use): the next one. Both drivers
  // and the instruction count take their bodies from it.
  nextBody?: () => string
  // True for an answer that carries a token; anything else is counted as an error.
  verifyBody: (body: string) => boolean
  // The same plan for wrk, whose Lua cannot parse JSON (see WrkRequests).
  wrk?: WrkRequests
}

// What wrk sends for a dialect's plan, and the Lua pattern a good answer matches. Every kind is sent from
// Lua's request(), so that every row pays the driver the same call.
export type WrkRequests = WrkFixed | WrkChains | WrkSigned

// The same body every time, formatted once before the run.
interface WrkFixed {
  kind: 'fixed'
  valid: string
  body: string
}

// Seed 001's signed single-use bodies, made by wrk as it sends them: request n of the run goes to client
// n mod the number of clients, at time `start` + floor(n ÷ that number) ms, with the uppercase hex MD5 of
// clientId + time + secret, from the system's libcrypto through LuaJIT's FFI. They were once made beforehand,
// a table of over 100 MB of formatted requests for 10 s (50,000 a second, for the fastest host), which wrk
// walked on the cores the server uses; made as sent, they cost wrk 0.7 µs less a request (bench/budget.ts).
// `spent` is told after the run how many bodies it may have made.
export interface WrkSigned {
  kind: 'signed'
  valid: string
  clients: readonly { clientId: string; secret: string }[]
  start: number
  spent: (count: number) => void
}

// Chains that each answer carries on: the next token is the string value that follows `field` (plain text,
// e.g. `"refresh_token":"`) in an answer, and goes into the thread's pool; a request spends one from the pool as
// `spend.prefix .. token`. With the pool empty (a broken chain), a request sends `seed`, whose answer starts a
// new chain.
interface WrkChains {
  kind: 'chains'
  valid: string
  tokens: string[]
  spend: { method: 'PUT' | 'POST'; prefix: string }
  seed: { method: 'POST'; body: string }
  field: string
}

// wrk's Lua pattern for a JWT-shaped access_token in an OAuth answer.
export const WRK_ACCESS_TOKEN = '"access_token"%s*:%s*"[%w_%-]+%.[%w_%-]+%.[%w_%-]+"'
export function cannonPlan(request: TokenRequest): CannonPlan {
  return {
    url: request.url,
    method: 'POST',
    headers: request.headers,
    body: request.body,
    verifyBody: looksLikeTokenResponse,
  }
}

// `amount` instead of a duration: exactly that many requests (used to prime caches, not to measure).
export async function runCannon(
  plan: CannonPlan,
  connections: number,
  durationSec: number,
  amount?: number,
): Promise<LoadResult> {
  const requests = plan.rotate
    ? [rotatingRequest(plan.rotate)]
    : plan.nextBody
      ? [bodyPerRequest(plan.nextBody)]
      : plan.requests
  const result = await autocannon({
    url: plan.url,
    method: plan.method,
    headers: plan.headers,
    ...(plan.body === undefined ? {} : { body: plan.body }),
    ...(requests ? { requests } : {}),
    ...(plan.setupClient ? { setupClient: plan.setupClient } : {}),
    connections,
    pipelining: 1,
    ...(amount === undefined ? { duration: durationSec } : { amount }),
    timeout: 10,
    verifyBody: (body) => plan.verifyBody(String(body)),
  })
  const socket = result.errors - result.timeouts
  const errors = result.errors + result.non2xx + result.mismatches
  const valid = Math.max(0, result['2xx'] - result.mismatches)
  return {
    rps: valid / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors,
    detail: { non2xx: result.non2xx, socket, timeouts: result.timeouts, invalidBody: result.mismatches },
    durationSec: result.duration,
  }
}

// Rebuilt before every send: the driver's MD5 for a signed body is about a microsecond.
function bodyPerRequest(nextBody: () => string): autocannon.Request {
  return { setupRequest: (req) => ({ ...req, body: nextBody() }) }
}

// The rotation continues across runs, so every value is used before any repeats.
function rotatingRequest({ header, values }: NonNullable<CannonPlan['rotate']>): autocannon.Request {
  let next = 0
  return {
    setupRequest: (req) => ({
      ...req,
      headers: { ...req.headers, [header]: values[next++ % values.length]! },
    }),
  }
}

/** Runs a plan with wrk when the driver is wrk (and with autocannon when the plan has no wrk form), else with autocannon. */
export function runPlan(
  driver: DriverName,
  plan: CannonPlan,
  connections: number,
  durationSec: number,
  workDir: string,
): Promise<LoadResult> {
  if (driver !== 'wrk') return runCannon(plan, connections, durationSec)
  if (plan.wrk) {
    return runWrk(
      { url: plan.url, headers: plan.headers, body: plan.body ?? '' },
      connections,
      durationSec,
      workDir,
      {
        method: plan.method,
        dynamic: plan.wrk,
      },
    )
  }
  if (plan.requests || plan.setupClient || plan.method !== 'POST' || plan.body === undefined)
    throw new Error(
      'this plan builds its requests in JavaScript and has no wrk form: only autocannon can run it',
    )
  return runWrk(
    { url: plan.url, headers: plan.headers, body: plan.body },
    connections,
    durationSec,
    workDir,
    plan.rotate && { method: 'POST', rotate: plan.rotate },
  )
}

function runAutocannon(request: TokenRequest, connections: number, durationSec: number): Promise<LoadResult> {
  return runCannon(cannonPlan(request), connections, durationSec)
}

function luaString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

function luaList(values: readonly string[]): string {
  return `{${values.map(luaString).join(',')}}`
}

// How one wrk run varies its requests: a rotating header, or a plan's own WrkRequests.
type WrkVariant =
  | { method: 'POST'; rotate: NonNullable<CannonPlan['rotate']> }
  | { method: 'POST' | 'PUT'; dynamic: WrkRequests }

// The request() of a variant, in Lua. Each thread takes every n-th body or token (its `id` is set in setup), so
// no two threads send the same one.
function wrkRequests(variant: WrkVariant | undefined, threads: number): string {
  if (!variant) return ''
  if ('rotate' in variant) {
    const { header, values } = variant.rotate
    return `local values = ${luaList(values)}
local turn = 0
function request()
  turn = turn + 1
  wrk.headers[${luaString(header)}] = values[(turn % #values) + 1]
  return wrk.format()
end
`
  }
  const plan = variant.dynamic
  if (plan.kind === 'signed') return signedRequests(plan, threads)
  if (plan.kind === 'fixed') {
    return `local fixed
function prepare() fixed = wrk.format(nil, nil, nil, ${luaString(plan.body)}) end
function request() return fixed end
`
  }
  // Requests are formatted once per token length (Content-Length is all that changes) and the token is
  // found with plain searches, so that a chained request costs the driver about what a fixed one does.
  return `local tokens = ${luaList(plan.tokens)}
local pool = {}
local seed, heads = nil, {}
function prepare()
  seed = wrk.format(${luaString(plan.seed.method)}, nil, nil, ${luaString(plan.seed.body)})
end
function request()
  local n = #pool
  if n == 0 then return seed end
  local token = pool[n]
  pool[n] = nil
  local head = heads[#token]
  if head == nil then
    local full = wrk.format(${luaString(plan.spend.method)}, nil, nil, ${luaString(plan.spend.prefix)} .. token)
    head = string.sub(full, 1, #full - #token)
    heads[#token] = head
  end
  return head .. token
end
local field = ${luaString(plan.field)}
function carry(body)
  local _, from = string.find(body, field, 1, true)
  local to = from and string.find(body, '"', from + 1, true)
  if not to then return false end
  pool[#pool + 1] = string.sub(body, from + 1, to - 1)
  return true
end
`
}

function signedRequests(plan: WrkSigned, threads: number): string {
  // The JSON before the time, per client, made here: JSON.stringify escapes what an id might hold.
  const heads = luaList(plan.clients.map((c) => `{"clientId":${JSON.stringify(c.clientId)},"time":`))
  const digits = Array.from({ length: 16 }, (_, i) => `hex[digest[${i}]]`).join(' .. ')
  return `local ffi = require('ffi')
ffi.cdef[[unsigned char *MD5(const unsigned char *data, size_t length, unsigned char *digest);]]
local loaded, crypto = pcall(ffi.load, 'libcrypto.so.3')
if not loaded then crypto = ffi.load('crypto') end
local digest = ffi.new('unsigned char[16]')
local hex = {}
for i = 0, 255 do hex[i] = string.format('%02X', i) end
local ids, secrets, jsonHeads = ${luaList(plan.clients.map((c) => c.clientId))}, ${luaList(plan.clients.map((c) => c.secret))}, ${heads}
local clients = #ids
local requestHeads = {}
function request()
  turn = turn + ${threads}
  local n = turn - 1
  local k = n % clients + 1
  local time = string.format('%d', ${plan.start} + math.floor(n / clients))
  local input = ids[k] .. time .. secrets[k]
  crypto.MD5(input, #input, digest)
  local body = jsonHeads[k] .. time .. ',"signature":"' .. ${digits} .. '"}'
  local head = requestHeads[#body]
  if head == nil then
    local full = wrk.format(nil, nil, nil, body)
    head = string.sub(full, 1, #full - #body)
    requestHeads[#body] = head
  end
  return head .. body
end
`
}

// wrk's per-thread Lua states count bad answers; done() runs in yet another state and sums them.
function wrkScript(request: TokenRequest, threads: number, variant?: WrkVariant): string {
  const headers = Object.entries(request.headers)
    .map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`)
    .join('\n')
  const valid = variant && 'dynamic' in variant ? variant.dynamic.valid : WRK_ACCESS_TOKEN
  const chains =
    variant && 'dynamic' in variant && variant.dynamic.kind === 'chains' ? variant.dynamic : undefined
  const fill = chains ? `for i = id + 1, #tokens, ${threads} do pool[#pool + 1] = tokens[i] end` : ''
  return `wrk.method = ${luaString(variant?.method ?? 'POST')}
wrk.body = ${luaString(request.body)}
${headers}
${wrkRequests(variant, threads)}local threads = {}
function setup(thread) thread:set("id", #threads); table.insert(threads, thread) end
function init(args) bad = 0; non2xx = 0; turn = id - ${threads} + 1; ${fill} if prepare then prepare() end end
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif not string.find(body, ${luaString(valid)}) ${chains ? 'or not carry(body) ' : ''}then
    bad = bad + 1
  end
end
function done(summary, latency, requests)
  local b, n = 0, 0
  for _, t in ipairs(threads) do b = b + t:get("bad"); n = n + t:get("non2xx") end
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests":%d,"duration_us":%d,"socket":%d,"timeouts":%d,"non2xx":%d,"bad":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write, e.timeout, n, b,
    latency:percentile(50), latency:percentile(99)))
end
`
}

async function runWrk(
  request: TokenRequest,
  connections: number,
  durationSec: number,
  workDir: string,
  variant?: WrkVariant,
): Promise<LoadResult> {
  const script = join(workDir, 'token.lua')
  const threads = Math.min(WRK_THREADS, connections)
  writeFileSync(script, wrkScript(request, threads, variant))
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      'wrk',
      [
        '-t',
        String(threads),
        '-c',
        String(connections),
        '-d',
        `${durationSec}s`,
        '--timeout',
        '10s',
        '-s',
        script,
        request.url,
      ],
      { timeout: (durationSec + 30) * 1000 },
      (err, out, errOut) => (err ? reject(new Error(`wrk failed: ${err.message}\n${errOut}`)) : resolve(out)),
    )
  })
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '))
  if (!line) throw new Error(`wrk printed no summary:\n${stdout}`)
  const s = JSON.parse(line.slice('BENCH_JSON '.length)) as Record<string, number>
  const n = (k: string): number => s[k] ?? 0
  const durationSecMeasured = n('duration_us') / 1e6
  const dynamic = variant && 'dynamic' in variant ? variant.dynamic : undefined
  // Bodies made: those answered, those in flight at the end, and the one wrk makes first to check the script.
  if (dynamic?.kind === 'signed') dynamic.spent(n('requests') + connections + 1)
  return {
    rps: Math.max(0, n('requests') - n('non2xx') - n('bad')) / durationSecMeasured,
    p50Ms: n('p50_us') / 1000,
    p99Ms: n('p99_us') / 1000,
    requests: n('requests'),
    errors: n('socket') + n('timeouts') + n('non2xx') + n('bad'),
    detail: { non2xx: n('non2xx'), socket: n('socket'), timeouts: n('timeouts'), invalidBody: n('bad') },
    durationSec: durationSecMeasured,
  }
}
