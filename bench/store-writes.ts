// What the token path's writes cost in Gatehouse's SQLite store, against the schema it had before, in one
// process, on the store as the server runs it (group commit, checkpoint thread) and with tables already full:
// - a signature replay write (consumeOnce), by how many clients sign: the table is its key's B-tree alone
//   (WITHOUT ROWID), the key leads with the time (signatureReplayKey) and there is no expiry index, against
//   a rowid table, and against that with the client first and an expiry index;
// - a refresh rotation (rotateRefreshFamily), by how many families are live: without the expiry index,
//   against with it.
// The "before" variants are today's store on a database given the old index or key layout; expired rows are
// purged by today's sweep in all of them.
//
// Writes are made beforehand and queued in groups as concurrent requests queue them, so each commit carries
// a group. The variants take turns round by round on databases of their own, and each figure is the median
// over the rounds, so the machine's drift falls on all of them alike.
//
//   npx node bench/store-writes.ts [--clients 1,100] [--live 300000] [--families 50,10000,200000]
//                                  [--group 15] [--writes 15000] [--rounds 5]
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { parseArgs } from 'node:util'
import { type ClientRecord, signatureReplayKey } from '@gatehouse/core'
import { SqliteStore } from '../packages/server/src/stores/sqlite/sqlite-store.ts'
import { alignColumns, fmt } from './table.ts'

const USAGE = `usage: npx node bench/store-writes.ts [--clients 1,100] [--live 300000] [--families 50,10000,200000]
                                      [--group 15] [--writes 15000] [--rounds 5]`

/** One write, made beforehand; resolves true when the store did what the write asked. */
type Write = () => Promise<boolean>

interface Case {
  kind: 'replay' | 'rotation'
  setting: string
  variant: string
  store: SqliteStore
  next: (count: number) => Write[]
  perWrite: number[]
}

const NOW = 'now'
const day = 86_400
const hash = () => randomBytes(32).toString('base64url')

function positive(name: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name} must be a positive integer, not ${JSON.stringify(value)}`)
  return n
}

function storeWithSchema(dir: string, name: string, schema: string): SqliteStore {
  const file = join(dir, `${name}.db`)
  const store = new SqliteStore(file, { checkpointThread: true })
  if (schema) {
    const db = new DatabaseSync(file)
    db.exec(schema)
    db.close()
  }
  return store
}

async function run(writes: Write[], group: number, what: string): Promise<void> {
  for (let done = 0; done < writes.length; done += group) {
    const ok = await Promise.all(writes.slice(done, done + group).map((write) => write()))
    // Every key is new and every secret current: a refusal means a lost write or a broken setup.
    if (ok.includes(false)) throw new Error(`${what}: a write was refused`)
  }
}

const ROWID_REPLAY_TABLE =
  'DROP TABLE used_once; CREATE TABLE used_once (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) STRICT;'
const clientFirst = (clientId: string, time: string, signature: string) =>
  `signature:${clientId}:${time}:${signature}`
// Each replay schema, newest first, and the key layout it had.
const REPLAY_SCHEMAS: Record<string, { schema: string; key: typeof signatureReplayKey }> = {
  [NOW]: { schema: '', key: signatureReplayKey },
  'before: a rowid table': { schema: ROWID_REPLAY_TABLE, key: signatureReplayKey },
  'before that: client first, expiry index': {
    schema: `${ROWID_REPLAY_TABLE} CREATE INDEX used_once_expires ON used_once (expires_at);`,
    key: clientFirst,
  },
}

async function replayCase(dir: string, clients: number, live: number, variant: string): Promise<Case> {
  const { schema, key } = REPLAY_SCHEMAS[variant]!
  const store = storeWithSchema(dir, `replay-${clients}-${variant}`, schema)
  const ids = Array.from({ length: clients }, () => randomBytes(16).toString('base64url'))
  let time = Date.now() - 250_000
  const next = (count: number): Write[] => {
    const expiresAt = Math.floor(Date.now() / 1000) + 600
    return Array.from({ length: count }, () => {
      const t = time++
      const k = key(ids[t % clients]!, String(t), randomBytes(16).toString('hex').toUpperCase())
      return () => store.consumeOnce(k, expiresAt)
    })
  }
  const c: Case = {
    kind: 'replay',
    setting: `${clients} client${clients > 1 ? 's' : ''}`,
    variant,
    store,
    next,
    perWrite: [],
  }
  await run(next(live), 1000, 'filling')
  return c
}

const ROWID_FAMILY_TABLE = `DROP TABLE refresh_families;
  CREATE TABLE refresh_families (
    family_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    subject TEXT NOT NULL, scopes TEXT NOT NULL, created_at INTEGER NOT NULL,
    rotated_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX refresh_families_client ON refresh_families (client_id);`
// Each family schema, newest first.
const FAMILY_SCHEMAS: Record<string, string> = {
  [NOW]: '',
  'before: a rowid table': ROWID_FAMILY_TABLE,
  'before that: expiry index': `${ROWID_FAMILY_TABLE} CREATE INDEX refresh_families_expires ON refresh_families (expires_at);`,
}

async function rotationCase(dir: string, families: number, variant: string): Promise<Case> {
  const store = storeWithSchema(dir, `rotation-${families}-${variant}`, FAMILY_SCHEMAS[variant]!)
  const now = Math.floor(Date.now() / 1000)
  const clients = Array.from({ length: 100 }, (_, i) => `client-${i}`)
  for (const clientId of clients) await store.insertClient(sampleClient(clientId, now))
  const live = Array.from({ length: families }, (_, i) => ({
    familyId: hash(),
    secretHash: hash(),
    clientId: clients[i % clients.length]!,
  }))
  const starts = live.map(
    (f): Write =>
      async () => {
        await store.insertRefreshFamily({
          ...f,
          subject: f.clientId,
          scopes: ['bench.read'],
          createdAt: now,
          rotatedAt: now,
          expiresAt: now + 30 * day,
          revoked: false,
        })
        return true
      },
  )
  await run(starts, 1000, 'filling')
  let expiresAt = now + 30 * day
  // Families picked at random, as the clients of a busy API refresh at their own pace.
  const next = (count: number): Write[] =>
    Array.from({ length: count }, () => {
      const f = live[Math.floor(Math.random() * live.length)]!
      const current = f.secretHash
      const successor = { secretHash: hash(), rotatedAt: now, expiresAt: ++expiresAt }
      f.secretHash = successor.secretHash
      return async () =>
        (await store.rotateRefreshFamily(f.familyId, current, f.clientId, successor, now)).outcome ===
        'rotated'
    })
  return {
    kind: 'rotation',
    setting: `${families.toLocaleString('en')} families`,
    variant,
    store,
    next,
    perWrite: [],
  }
}

function sampleClient(clientId: string, now: number): ClientRecord {
  return {
    clientId,
    name: clientId,
    scopes: ['bench.read'],
    grants: ['client_credentials', 'refresh_token'],
    tokenTtl: null,
    enabled: true,
    isPublic: false,
    introspect: false,
    signature: false,
    secrets: [],
    sealedSecret: null,
    jwks: null,
    jwksUri: null,
    createdAt: now,
    updatedAt: now,
  }
}

function table(cases: Case[], kind: Case['kind'], heading: string): string[] {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const rows = cases.filter((c) => c.kind === kind)
  const body = rows.map((c) => {
    const now = rows.find((o) => o.setting === c.setting && o.variant === NOW)!
    return [
      c.setting,
      c.variant,
      fmt(median(c.perWrite), 1),
      `${fmt(median(c.perWrite) / median(now.perWrite), 2)}×`,
    ]
  })
  return [
    heading,
    '',
    ...alignColumns(
      ['setting', 'schema', 'µs/write', '× now'],
      body,
      [0, 1],
      rows.map((c) => c.setting),
    ),
    '',
  ]
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '1,100' },
      live: { type: 'string', default: '300000' },
      families: { type: 'string', default: '50,10000,200000' },
      group: { type: 'string', default: '15' },
      writes: { type: 'string', default: '15000' },
      rounds: { type: 'string', default: '5' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return
  }
  const list = (name: string, value: string) => value.split(',').map((s) => positive(name, s.trim()))
  const clientCounts = list('clients', values.clients)
  const familyCounts = list('families', values.families)
  const live = positive('live', values.live)
  const group = positive('group', values.group)
  const writes = positive('writes', values.writes)
  const rounds = positive('rounds', values.rounds)

  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-store-writes-'))
  const cases: Case[] = []
  try {
    for (const clients of clientCounts) {
      for (const variant of Object.keys(REPLAY_SCHEMAS)) {
        process.stderr.write(
          `filling replay keys, ${clients} client(s), ${variant}: ${live.toLocaleString('en')}…\n`,
        )
        cases.push(await replayCase(dir, clients, live, variant))
      }
    }
    for (const families of familyCounts) {
      for (const variant of Object.keys(FAMILY_SCHEMAS)) {
        process.stderr.write(`starting ${families.toLocaleString('en')} refresh families, ${variant}…\n`)
        cases.push(await rotationCase(dir, families, variant))
      }
    }
    for (let round = 1; round <= rounds; round++) {
      process.stderr.write(`round ${round}/${rounds}\n`)
      // Rotate the order each round so that no case always runs first.
      for (let i = 0; i < cases.length; i++) {
        const c = cases[(i + round) % cases.length]!
        const batch = c.next(writes)
        const start = process.hrtime.bigint()
        await run(batch, group, `${c.setting}, ${c.variant}`)
        c.perWrite.push(Number(process.hrtime.bigint() - start) / 1000 / writes)
      }
    }
    console.log(
      [
        `SQLite token-path writes, groups of ${group} per commit, ${writes.toLocaleString('en')} writes × ${rounds} rounds (median)`,
        `node ${process.versions.node}, ${cpus().length} × ${cpus()[0]?.model.trim()}, load average ${fmt(loadavg()[0]!, 2)} at end`,
        '',
        ...table(
          cases,
          'replay',
          `signature replay writes (consumeOnce), ${live.toLocaleString('en')} live keys first`,
        ),
        ...table(cases, 'rotation', 'refresh rotations (rotateRefreshFamily), families picked at random'),
        'µs/write = wall time of the writes ÷ their number, one process: the main thread and the checkpoint thread.',
        'Each commit writes a page for every place in the B-trees that its group touched.',
      ].join('\n'),
    )
  } finally {
    for (const c of cases) await c.store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
