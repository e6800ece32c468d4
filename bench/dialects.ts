// `npm run bench -- --dialects`: each vendor dialect against Gatehouse's standard token endpoint, on ONE
// Gatehouse per algorithm (production setup: CLI-registered clients, SQLite store, logs at info). The target
// is each dialect at 0.9 × or more of the standard endpoint's throughput at the same algorithm.
import { createHash, randomBytes } from 'node:crypto'
import type autocannon from 'autocannon'
import {
  checkBuilt,
  gatehouseFiles,
  parseClient,
  parseCliJson,
  type RunningGatehouse,
  runCli,
  serveGatehouse,
} from './gatehouse.ts'
import {
  type CannonPlan,
  cannonPlan,
  JWT_SHAPE,
  looksLikeTokenResponse,
  tokenRequest,
  WRK_ACCESS_TOKEN,
  type WrkRequests,
} from './load.ts'
import { type Contender, comparedTo, emptyMeasured, type Measured } from './rounds.ts'
import type { Alg } from './servers/jwt.ts'
import type { StartContext } from './spawn.ts'
import { alignColumns, CPU_LEGEND, MEASURED_COLUMNS, measuredCells, ratioCell, verdictCell } from './table.ts'
import { type FetchToken, oauthAccessToken, postJson } from './verify.ts'

export const DIALECTS = [
  'standard',
  'imported',
  'servicekey',
  'parent-child',
  'signature',
  'refresh',
] as const
export type Dialect = (typeof DIALECTS)[number]

export function parseDialect(s: string): Dialect {
  const found = DIALECTS.find((d) => d === s)
  if (!found) throw new Error(`unknown row ${JSON.stringify(s)}; expected some of ${DIALECTS.join(', ')}`)
  return found
}

export const DIALECT_TARGET = 0.9
const SIGNATURE_CLIENTS = 16

export const DIALECT_REQUESTS: Record<Dialect, string> = {
  standard: 'POST /oauth/token, Basic, grant_type=client_credentials',
  imported: 'the same for a client whose secret was imported (--client-secret; stored under scrypt)',
  servicekey: 'POST /connect/token, grant_type=servicekey (public client)',
  'parent-child': 'POST /oauth/token, grant_type=csp_credentials + child_key/child_secret',
  signature: `POST /api/TokenAuth/Authenticate, JSON {clientId, time, MD5 signature}, ${SIGNATURE_CLIENTS} clients in turn`,
  refresh: 'PUT /amsu-analysis/v2/token, refresh_token rotated every request',
}

const SCOPE = 'bench.read'
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const JSON_TYPE = { 'content-type': 'application/json' }
const REFRESH_PATH = '/amsu-analysis/v2/token'

// The signature and refresh requests change every time, so autocannon rebuilds them before each send, which
// costs the driver ~30 µs a request (measured) on the cores the server also uses. The fixed-body endpoints get
// the same rebuild through an identity setupRequest, so every row pays the same driver cost and the ratio
// compares the server alone. Even so autocannon spent ~20 µs more per signature or refresh request than per
// standard one (its CPU per request, measured in the driver), so wrk drives this mode when it is installed:
// every row sends its bodies from its Lua request(): the fixed ones the same body each time, the signature row
// bodies it signs as it goes, the refresh row the tokens the answers carry.
const SAME_REQUEST: autocannon.Request[] = [{ setupRequest: (req) => req }]
const sameBody = (body: string): WrkRequests => ({ kind: 'fixed', valid: WRK_ACCESS_TOKEN, body })

export interface DialectRow extends Measured {
  alg: Alg
  dialect: Dialect
}

export interface DialectServer {
  gatehouse: RunningGatehouse
  contenders: (Contender & { dialect: Dialect })[]
  // Why a refresh chain had to be re-seeded during the runs; empty when every refresh succeeded.
  chainNotes(): string[]
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString()
}

async function fetchOAuth(url: string, body: string): Promise<string> {
  return oauthAccessToken(await postJson(url, { headers: FORM, body }))
}

// Answer of the signature dialect: {"code":200,"data":{"accessToken":"…","expireInSeconds":…},"success":true,…}.
function signatureAccessToken(body: Record<string, unknown>): string {
  const data = body.data as { accessToken?: unknown; expireInSeconds?: unknown } | null | undefined
  if (body.code !== 200 || body.success !== true || typeof data?.accessToken !== 'string') {
    throw new Error(`not a signature-dialect success: ${JSON.stringify(body).slice(0, 200)}`)
  }
  if (typeof data.expireInSeconds !== 'number' || data.expireInSeconds <= 0)
    throw new Error(`expireInSeconds ${data.expireInSeconds}`)
  return data.accessToken
}

function looksLikeSignatureResponse(body: string): boolean {
  try {
    const token = signatureAccessToken(JSON.parse(body) as Record<string, unknown>)
    return JWT_SHAPE.test(token)
  } catch {
    return false
  }
}

function looksLikeRefreshResponse(body: string): boolean {
  if (!looksLikeTokenResponse(body)) return false
  return typeof (JSON.parse(body) as { refresh_token?: unknown }).refresh_token === 'string'
}

// Signature dialect: each (clientId, time, signature) is accepted once and `time` must lie within ±300 s, so
// the requests go round the signing clients and every round carries its own 13-digit millisecond time, one more
// than the last round's. Starting 250 s in the past leaves 540,000 distinct times inside the window, and as many
// requests as there are clients at each; the time is re-based (never moved back) before each run. Many clients,
// as a real API's requests would come from: with one client the replay keys of a commit sat side by side in the
// B-tree whatever their layout, which hid a layout that cost a page per client and commit.
export function signatureSigner(clients: readonly { client_id: string; client_secret: string }[]) {
  let time = 0
  let turn = 0
  return {
    rebase(): void {
      const earliest = Date.now() - 250_000
      if (time < earliest) {
        time = earliest
        turn = 0
      }
    },
    body(): string {
      if (turn === clients.length) {
        time++
        turn = 0
      }
      checkWindow(time)
      const { client_id: clientId, client_secret: secret } = clients[turn++]!
      const signature = createHash('md5').update(`${clientId}${time}${secret}`).digest('hex').toUpperCase()
      return `{"clientId":${JSON.stringify(clientId)},"time":${time},"signature":"${signature}"}`
    },
    /**
     * Hands the times from the next round on to a signer of wrk's (WrkSigned), which makes request n at
     * `start` + floor(n ÷ clients); `spent` takes back how many it may have made.
     */
    lend(): { start: number; spent: (count: number) => void } {
      if (turn > 0) {
        time++
        turn = 0
      }
      const start = time
      return {
        start,
        spent(count: number): void {
          time = Math.max(time, start + Math.ceil(count / clients.length))
          checkWindow(time - 1)
        },
      }
    },
  }
}

// Long runs could use the window up: a run that did fails rather than count the refusals as the server's.
function checkWindow(time: number): void {
  if (time > Date.now() + 290_000)
    throw new Error('signature times ran past the +300 s window: use fewer or shorter runs')
}

interface Chain {
  token: string | undefined
}

async function registerClients(common: string[]) {
  const create = async (name: string, extra: string[]) =>
    parseClient(
      await runCli(['clients', 'create', ...common, '--name', name, '--scope', SCOPE, ...extra, '--json']),
    )
  // The first registration creates the database and the master key; the rest may then run side by side.
  const standard = await create('bench-standard', [])
  const [imported, servicekey, parent, signature, refresh] = await Promise.all([
    // `clients create` prints an imported secret back, as it prints a generated one.
    create('bench-imported', [
      '--client-id',
      'bench-imported',
      // Joined to its flag: a base64url secret starts with a dash one time in 64, and a lone
      // value that starts with a dash is refused as a missing value.
      `--client-secret=${randomBytes(24).toString('base64url')}`,
    ]),
    runCli([
      'clients',
      'create',
      ...common,
      '--name',
      'bench-servicekey',
      '--public',
      '--grant',
      'servicekey',
      '--scope',
      SCOPE,
      '--json',
    ]).then((out) => parseCliJson(out, ['client_id'])),
    create('bench-parent', ['--grant', 'csp_credentials']),
    Promise.all(
      Array.from({ length: SIGNATURE_CLIENTS }, (_, i) => create(`bench-signature-${i}`, ['--signature'])),
    ),
    create('bench-refresh', ['--grant', 'client_credentials', '--grant', 'refresh_token']),
  ])
  // A generated client id starts with '-' one time in 64 and would then be read as an option: it goes after
  // `--`, where the CLI takes it as the positional argument.
  const [serviceKey, child] = await Promise.all([
    runCli([
      'service-keys',
      'create',
      ...common,
      '--service-name',
      'svc',
      '--json',
      '--',
      servicekey.client_id,
    ]).then((out) => parseCliJson(out, ['service_name', 'service_key'])),
    runCli(['children', 'create', ...common, '--name', 'c', '--json', '--', parent.client_id]).then((out) =>
      parseCliJson(out, ['child_key', 'child_secret']),
    ),
  ])
  return { standard, imported, servicekey, serviceKey, parent, child, signature, refresh }
}

export async function startDialectServer(
  alg: Alg,
  workDir: string,
  connections: number,
  launch: Omit<StartContext, 'workDir'> = {},
): Promise<DialectServer> {
  checkBuilt()
  const label = `dialects-${alg}`
  const files = gatehouseFiles(workDir, label, alg)
  const c = await registerClients(files.common)
  const gatehouse = await serveGatehouse(files, label, { workDir, ...launch })
  const { baseUrl, jwksUrl } = gatehouse
  const contenders: DialectServer['contenders'] = []
  const add = (dialect: Dialect, plan: () => Promise<CannonPlan>, fetchToken: FetchToken) =>
    contenders.push({
      dialect,
      label: dialect,
      plan,
      fetchToken,
      jwksUrl,
      result: emptyMeasured(),
      pid: gatehouse.child.pid,
    })

  const standard = tokenRequest(baseUrl, c.standard.client_id, c.standard.client_secret)
  add(
    'standard',
    async () => ({ ...cannonPlan(standard), requests: SAME_REQUEST, wrk: sameBody(standard.body) }),
    async () => oauthAccessToken(await postJson(standard.url, standard)),
  )

  const imported = tokenRequest(baseUrl, c.imported.client_id, c.imported.client_secret)
  add(
    'imported',
    async () => ({ ...cannonPlan(imported), requests: SAME_REQUEST, wrk: sameBody(imported.body) }),
    async () => oauthAccessToken(await postJson(imported.url, imported)),
  )

  const serviceKeyUrl = `${baseUrl}/connect/token`
  const serviceKeyBody = form({
    grant_type: 'servicekey',
    client_id: c.servicekey.client_id,
    serviceName: c.serviceKey.service_name,
    serviceKey: c.serviceKey.service_key,
  })
  add(
    'servicekey',
    async () => ({
      url: serviceKeyUrl,
      method: 'POST',
      headers: FORM,
      body: serviceKeyBody,
      requests: SAME_REQUEST,
      verifyBody: looksLikeTokenResponse,
      wrk: sameBody(serviceKeyBody),
    }),
    () => fetchOAuth(serviceKeyUrl, serviceKeyBody),
  )

  const tokenUrl = `${baseUrl}/oauth/token`
  const childBody = form({
    grant_type: 'csp_credentials',
    client_id: c.parent.client_id,
    client_secret: c.parent.client_secret,
    child_key: c.child.child_key,
    child_secret: c.child.child_secret,
  })
  add(
    'parent-child',
    async () => ({
      url: tokenUrl,
      method: 'POST',
      headers: FORM,
      body: childBody,
      requests: SAME_REQUEST,
      verifyBody: looksLikeTokenResponse,
      wrk: sameBody(childBody),
    }),
    () => fetchOAuth(tokenUrl, childBody),
  )

  const signatureUrl = `${baseUrl}/api/TokenAuth/Authenticate`
  const signer = signatureSigner(c.signature)
  add(
    'signature',
    async () => {
      signer.rebase()
      return {
        url: signatureUrl,
        method: 'POST',
        headers: JSON_TYPE,
        nextBody: () => signer.body(),
        verifyBody: looksLikeSignatureResponse,
        wrk: {
          kind: 'signed',
          valid: '"accessToken"%s*:%s*"[%w_%-]+%.[%w_%-]+%.[%w_%-]+"',
          clients: c.signature.map((s) => ({ clientId: s.client_id, secret: s.client_secret })),
          ...signer.lend(),
        },
      }
    },
    async () => {
      signer.rebase()
      return signatureAccessToken(await postJson(signatureUrl, { headers: JSON_TYPE, body: signer.body() }))
    },
  )

  // Refresh: every answer spends the token it was asked with, so each connection runs its own chain, seeded
  // by its own client-credentials call, and sends the refresh_token of each answer in its next request.
  // Chains are seeded afresh before every run: a run that stops with a request in flight leaves that chain's
  // last token spent, and presenting a spent token again would revoke the family.
  const refreshUrl = `${baseUrl}${REFRESH_PATH}`
  const seedBody = form({ client_id: c.refresh.client_id, client_secret: c.refresh.client_secret })
  const seedChain = async (): Promise<Chain> => {
    const body = await postJson(refreshUrl, { headers: FORM, body: seedBody })
    if (typeof body.refresh_token !== 'string') throw new Error(`no refresh_token in ${JSON.stringify(body)}`)
    return { token: body.refresh_token }
  }
  const breaks: string[] = []
  add(
    'refresh',
    async (): Promise<CannonPlan> => {
      const chains: Chain[] = []
      for (let i = 0; i < connections; i++) chains.push(await seedChain())
      let nextChain = 0
      return {
        url: refreshUrl,
        method: 'PUT',
        headers: FORM,
        setupClient: (client: autocannon.Client) => {
          const chain = chains[nextChain++ % chains.length]!
          client.setRequests([
            {
              method: 'PUT',
              headers: FORM,
              // A broken chain (a non-200 answer) is re-seeded with a client-credentials POST; the failed
              // refresh was already counted as an error.
              setupRequest: (req) =>
                chain.token === undefined
                  ? { ...req, method: 'POST', body: seedBody }
                  : { ...req, method: 'PUT', body: `refresh_token=${encodeURIComponent(chain.token)}` },
              onResponse: (status, body) => {
                if (status === 200) {
                  try {
                    const next = (JSON.parse(body) as { refresh_token?: unknown }).refresh_token
                    chain.token = typeof next === 'string' ? next : undefined
                  } catch {
                    chain.token = undefined
                  }
                } else {
                  chain.token = undefined
                }
                if (chain.token === undefined && breaks.length < 1000)
                  breaks.push(`HTTP ${status}: ${body.slice(0, 160)}`)
              },
            },
          ])
        },
        verifyBody: looksLikeRefreshResponse,
        // Refresh tokens are base64url, so they go into the form as they are.
        wrk: {
          kind: 'chains',
          valid: WRK_ACCESS_TOKEN,
          tokens: chains.map((chain) => chain.token!),
          spend: { method: 'PUT', prefix: 'refresh_token=' },
          seed: { method: 'POST', body: seedBody },
          field: '"refresh_token":"',
        },
      }
    },
    async () => {
      const chain = await seedChain()
      const body = await postJson(refreshUrl, {
        method: 'PUT',
        headers: FORM,
        body: `refresh_token=${encodeURIComponent(chain.token!)}`,
      })
      if (typeof body.refresh_token !== 'string' || body.refresh_token === chain.token)
        throw new Error('refresh answer without a new refresh_token')
      return oauthAccessToken(body)
    },
  )
  return { gatehouse, contenders, chainNotes: () => breaks }
}

export function renderDialectTable(rows: DialectRow[], heading: string): string {
  const header = ['alg', 'endpoint', ...MEASURED_COLUMNS, '× standard', 'target 0.9']
  const body: string[][] = []
  const notes: string[] = []
  for (const row of rows) {
    // Against the standard endpoint's runs around it.
    const standard = rows.find((r) => r.alg === row.alg && r.dialect === 'standard')
    const { ratios, hadErrors } = comparedTo(row, standard)
    const verdict = row.dialect === 'standard' ? 'baseline' : verdictCell(ratios, DIALECT_TARGET, hadErrors)
    body.push([row.alg, row.dialect, ...measuredCells(row), ratioCell(ratios), verdict])
    if (row.note) notes.push(`${row.alg} ${row.dialect}: ${row.note}`)
  }
  const out = [
    heading,
    '',
    ...alignColumns(
      header,
      body,
      [0, 1, header.length - 1],
      rows.map((r) => r.alg),
    ),
  ]
  out.push(
    '',
    `× standard = median over the rounds of that endpoint's req/s ÷ the mean of the standard endpoint's runs just`,
    `before and after it (same server; the order rotates each round), and in brackets the range of the rounds;`,
    `target: ${DIALECT_TARGET}× or more, read on the median.`,
    ...DIALECTS.map((d) => `  ${d.padEnd(12)} ${DIALECT_REQUESTS[d]}`),
    'errors = non-2xx, socket errors, time-outs and answers without a token, summed over all runs (for refresh:',
    'every refresh that did not answer 200 with a new refresh_token).',
    ...CPU_LEGEND,
  )
  if (notes.length) out.push('', ...notes)
  return out.join('\n')
}
