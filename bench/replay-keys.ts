// What a signature replay write costs in Gatehouse's SQLite store, by key layout and by how many clients
// sign: the layout it uses (signatureReplayKey, the time first) against the one it used before (the client
// first), in one process, on the store the server runs (group commit, checkpoint thread, a table already
// holding a full window of live keys).
//
// Each write is the store's consumeOnce, queued in groups as concurrent requests queue them, so each
// commit carries a group. The variants take turns round by round on databases of their own, and each
// figure is the median over the rounds, so the machine's drift falls on all of them alike.
//
//   npx node bench/replay-keys.ts [--clients 1,100] [--live 300000] [--group 15] [--writes 15000] [--rounds 5]
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { signatureReplayKey } from '@gatehouse/core'
import { SqliteStore } from '../packages/server/src/stores/sqlite/sqlite-store.ts'
import { alignColumns, fmt } from './table.ts'

const USAGE =
  'usage: npx node bench/replay-keys.ts [--clients 1,100] [--live 300000] [--group 15] [--writes 15000] [--rounds 5]'

type KeyLayout = (clientId: string, time: string, signature: string) => string

const LAYOUTS: Record<string, KeyLayout> = {
  'time first (now)': signatureReplayKey,
  'client first (before)': (clientId, time, signature) => `signature:${clientId}:${time}:${signature}`,
}

interface Variant {
  layout: string
  clients: number
  store: SqliteStore
  file: string
  // Client ids as Gatehouse generates them, and the next millisecond time to sign.
  ids: string[]
  time: number
  perWrite: number[]
}

function positive(name: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name} must be a positive integer, not ${JSON.stringify(value)}`)
  return n
}

function nextKey(v: Variant): string {
  const time = v.time++
  const clientId = v.ids[time % v.clients]!
  return LAYOUTS[v.layout]!(clientId, String(time), randomBytes(16).toString('hex').toUpperCase())
}

function nextKeys(v: Variant, count: number): string[] {
  return Array.from({ length: count }, () => nextKey(v))
}

async function write(v: Variant, keys: string[], group: number): Promise<void> {
  const expiresAt = Math.floor(Date.now() / 1000) + 600
  for (let done = 0; done < keys.length; done += group) {
    const accepted = await Promise.all(
      keys.slice(done, done + group).map((key) => v.store.consumeOnce(key, expiresAt)),
    )
    // Every key is new: a refusal would mean the store lost a write or the layout collides.
    if (accepted.includes(false)) throw new Error(`${v.layout}: a fresh key was refused`)
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '1,100' },
      live: { type: 'string', default: '300000' },
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
  const clientCounts = values.clients.split(',').map((s) => positive('clients', s.trim()))
  const live = positive('live', values.live)
  const group = positive('group', values.group)
  const writes = positive('writes', values.writes)
  const rounds = positive('rounds', values.rounds)

  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-replay-keys-'))
  const variants: Variant[] = []
  try {
    for (const clients of clientCounts) {
      for (const layout of Object.keys(LAYOUTS)) {
        const file = join(dir, `${variants.length}.db`)
        const v: Variant = {
          layout,
          clients,
          file,
          store: new SqliteStore(file, { checkpointThread: true }),
          ids: Array.from({ length: clients }, () => randomBytes(16).toString('base64url')),
          time: Date.now() - 250_000,
          perWrite: [],
        }
        process.stderr.write(
          `filling ${layout}, ${clients} client(s): ${live.toLocaleString('en')} live keys…\n`,
        )
        await write(v, nextKeys(v, live), 1000)
        variants.push(v)
      }
    }
    for (let round = 1; round <= rounds; round++) {
      process.stderr.write(`round ${round}/${rounds}\n`)
      // Rotate the order each round so that no variant always runs first.
      for (let i = 0; i < variants.length; i++) {
        const v = variants[(i + round) % variants.length]!
        const keys = nextKeys(v, writes)
        const start = process.hrtime.bigint()
        await write(v, keys, group)
        v.perWrite.push(Number(process.hrtime.bigint() - start) / 1000 / writes)
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    const body = variants.map((v) => {
      const now = variants.find((o) => o.clients === v.clients && o.layout === Object.keys(LAYOUTS)[0])!
      return [
        String(v.clients),
        v.layout,
        fmt(median(v.perWrite), 1),
        fmt(median(v.perWrite) / median(now.perWrite), 2),
        fmt(statSync(v.file).size / 2 ** 20, 0),
      ]
    })
    console.log(
      [
        `SQLite replay writes (consumeOnce), groups of ${group} per commit, ${live.toLocaleString('en')} live keys first, ` +
          `${writes.toLocaleString('en')} writes × ${rounds} rounds (median)`,
        `node ${process.versions.node}, ${cpus().length} × ${cpus()[0]?.model.trim()}, load average ${fmt(loadavg()[0]!, 2)} at end`,
        '',
        ...alignColumns(
          ['clients', 'key layout', 'µs/write', '× time first', 'db MiB'],
          body,
          [1],
          variants.map((v) => String(v.clients)),
        ),
        '',
        'µs/write = wall time of the writes ÷ their number (keys made beforehand), one process: the main thread and the',
        'checkpoint thread. Each commit writes a page for every place in the B-trees its group touched.',
      ].join('\n'),
    )
  } finally {
    for (const v of variants) await v.store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
