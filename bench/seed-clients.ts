// Registers many clients in a Gatehouse data dir, fast: `npx node bench/seed-clients.ts --data DIR --count 1000000`.
// Client i gets the id and secret of seededClient(seed, i) (see seeded.ts), a salted SHA-256 hash of that secret
// exactly as `gatehouse clients create` stores a generated one, scope bench.read, grant client_credentials.
//
// The schema is Gatehouse's: the script first opens the data dir with Gatehouse's own SqliteStore, which runs
// its migrations, then writes rows into the same `clients` columns in transactions of --batch rows (one
// store.insertClient per client is one transaction each; --via store does that instead, for comparison).
// Each batch also appends a '*' entry to the change log, so a server running on the data dir drops its client
// cache and sees the new clients. Re-running with the same seed resumes where the last run stopped.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync, type SQLInputValue } from 'node:sqlite'
import { parseArgs } from 'node:util'
import { type ClientRecord, hashSecret } from '@gatehouse/core'
import { loadConfig } from '../packages/server/src/config.ts'
import { CLIENT_COLUMNS as COLUMNS, clientRow as row } from '../packages/server/src/stores/sqlite/rows.ts'
import { SqliteStore } from '../packages/server/src/stores/sqlite/sqlite-store.ts'
import { DEFAULT_SEED, SEEDED_SCOPE, seededClient, seededKey } from './seeded.ts'

const USAGE = `usage: npx node bench/seed-clients.ts --data DIR --count N [--config FILE] [--seed TEXT] [--batch 10000]
                                   [--via sql|store] [--json]`

async function record(key: Buffer, index: number, now: number): Promise<ClientRecord> {
  const { clientId, clientSecret } = seededClient(key, index)
  return {
    clientId,
    name: `seeded-${index}`,
    scopes: [SEEDED_SCOPE],
    grants: ['client_credentials'],
    tokenTtl: null,
    enabled: true,
    isPublic: false,
    introspect: false,
    signature: false,
    secrets: [{ hash: await hashSecret(clientSecret, 'generated'), createdAt: now, expiresAt: null }],
    sealedSecret: null,
    jwks: null,
    jwksUri: null,
    createdAt: now,
    updatedAt: now,
  }
}

// Fails loudly if Gatehouse's schema moved away from what this script writes.
function checkSchema(db: DatabaseSync): void {
  const info = db.prepare('PRAGMA table_info(clients)').all() as {
    name: string
    notnull: number
    dflt_value: unknown
  }[]
  if (info.length === 0) throw new Error('the database has no clients table: did the migrations run?')
  const names = new Set(info.map((c) => c.name))
  const missing = COLUMNS.filter((c) => !names.has(c))
  const unfilled = info.filter(
    (c) => c.notnull && c.dflt_value === null && !(COLUMNS as readonly string[]).includes(c.name),
  )
  if (missing.length || unfilled.length) {
    throw new Error(
      `the clients table changed: ${[...missing.map((c) => `no column ${c}`), ...unfilled.map((c) => `new NOT NULL column ${c.name}`)].join(', ')}; update bench/seed-clients.ts`,
    )
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

// One line on stderr, rewritten with \r on a terminal; a line per 10 % when stderr is a file or a pipe.
class ProgressBar {
  private readonly startedAt = performance.now()
  private lastDecile = -1
  private readonly total: number
  private readonly from: number
  constructor(total: number, from: number) {
    this.total = total
    this.from = from
  }

  update(done: number): void {
    const elapsed = (performance.now() - this.startedAt) / 1000
    const rate = elapsed > 0 ? (done - this.from) / elapsed : 0
    const fraction = this.total === 0 ? 1 : done / this.total
    const eta = rate > 0 ? (this.total - done) / rate : Number.POSITIVE_INFINITY
    const width = 24
    const filled = Math.round(fraction * width)
    const text =
      `seeding [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${fmt(done)}/${fmt(this.total)} ` +
      `${(fraction * 100).toFixed(1)} %  ${fmt(rate)}/s  ETA ${Number.isFinite(eta) ? `${Math.ceil(eta)} s` : '?'}`
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${text}\x1b[K`)
    } else {
      const decile = Math.floor(fraction * 10)
      if (decile !== this.lastDecile) process.stderr.write(`${text}\n`)
      this.lastDecile = decile
    }
  }

  end(): void {
    if (process.stderr.isTTY) process.stderr.write('\n')
  }
}

interface Marker {
  seed: string
  count: number
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      config: { type: 'string' },
      count: { type: 'string' },
      seed: { type: 'string', default: DEFAULT_SEED },
      batch: { type: 'string', default: '10000' },
      via: { type: 'string', default: 'sql' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  const count = Number(values.count)
  const batch = Number(values.batch)
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(batch) || batch < 1) {
    process.stderr.write(`--count (0 or more) and --batch (1 or more) must be whole numbers\n${USAGE}\n`)
    return 2
  }
  if (values.via !== 'sql' && values.via !== 'store') {
    process.stderr.write(`--via must be sql or store\n${USAGE}\n`)
    return 2
  }
  // Resolved as Gatehouse resolves it: flags, then GATEHOUSE_DATA_DIR, then the config file.
  const config = loadConfig({ data: values.data, config: values.config })
  if (config.databaseUrl)
    throw new Error('seeding writes the embedded SQLite store; this config names a database URL')
  const dbFile = join(config.dataDir, 'gatehouse.db')
  const markerFile = join(config.dataDir, 'bench-seed.json')

  // Gatehouse's own store creates the file and runs its migrations.
  const store = new SqliteStore(dbFile)
  let marker: Marker = { seed: values.seed, count: 0 }
  if (existsSync(markerFile)) {
    const previous = JSON.parse(readFileSync(markerFile, 'utf8')) as Marker
    if (previous.seed !== values.seed) {
      throw new Error(`${config.dataDir} was seeded with another --seed (${JSON.stringify(previous.seed)})`)
    }
    marker = previous
  }
  const from = Math.min(marker.count, count)
  const key = seededKey(values.seed)
  const now = Math.floor(Date.now() / 1000)
  const startedAt = performance.now()
  const bar = new ProgressBar(count, from)
  let inserted = 0
  let skipped = 0
  const saveMarker = (done: number) => {
    marker = { seed: values.seed, count: Math.max(marker.count, done) }
    writeFileSync(markerFile, `${JSON.stringify(marker)}\n`)
  }

  if (values.via === 'store') {
    // The path every CLI registration takes: one transaction and one change-log entry per client.
    for (let i = from; i < count; i++) {
      try {
        await store.insertClient(await record(key, i, now))
        inserted++
      } catch (err) {
        if ((err as Error).name !== 'ConflictError') throw err
        skipped++
      }
      if ((i + 1) % batch === 0 || i + 1 === count) {
        saveMarker(i + 1)
        bar.update(i + 1)
      }
    }
    await store.close()
  } else {
    await store.close()
    const db = new DatabaseSync(dbFile)
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;')
    checkSchema(db)
    const insert = db.prepare(
      `INSERT INTO clients (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(',')})
       ON CONFLICT (client_id) DO NOTHING`,
    )
    const change = db.prepare("INSERT INTO changes (kind, id) VALUES ('client', '*')")
    const trim = db.prepare('DELETE FROM changes WHERE seq <= last_insert_rowid() - 100000')
    bar.update(from)
    for (let start = from; start < count; start += batch) {
      const end = Math.min(count, start + batch)
      const rows: SQLInputValue[][] = []
      for (let i = start; i < end; i++) rows.push(row(await record(key, i, now)))
      db.exec('BEGIN IMMEDIATE')
      try {
        for (const values of rows) {
          if (insert.run(...values).changes > 0) inserted++
          else skipped++
        }
        change.run()
        trim.run()
        db.exec('COMMIT')
      } catch (err) {
        db.exec('ROLLBACK')
        throw err
      }
      saveMarker(end)
      bar.update(end)
    }
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    db.close()
  }
  bar.end()
  const seconds = (performance.now() - startedAt) / 1000
  const summary = {
    data_dir: config.dataDir,
    database: dbFile,
    seed: values.seed,
    via: values.via,
    count,
    inserted,
    skipped,
    already_seeded: from,
    seconds: Math.round(seconds * 100) / 100,
    per_second: seconds > 0 ? Math.round(inserted / seconds) : 0,
    database_bytes: statSync(dbFile).size,
  }
  if (values.json) {
    console.log(JSON.stringify(summary))
  } else {
    console.log(
      `seeded ${fmt(inserted)} clients (${fmt(from)} already there, ${fmt(skipped)} existed) into ${dbFile} ` +
        `in ${summary.seconds} s (${fmt(summary.per_second)}/s); database ${(summary.database_bytes / 2 ** 20).toFixed(0)} MiB`,
    )
  }
  return 0
}

try {
  process.exitCode = await main()
} catch (err) {
  process.stderr.write(`seed-clients: ${(err as Error).message}\n`)
  process.exitCode = 1
}
