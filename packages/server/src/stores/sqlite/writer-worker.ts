// The body of the SQLite writer thread (see writer-thread.ts).
import { DatabaseSync } from 'node:sqlite'
import { parentPort, workerData } from 'node:worker_threads'
import type { FromWriter, ToWriter } from './writer-thread.ts'
import { commitGroup, type Write, Writes } from './writes.ts'

const port = parentPort
if (!port) throw new Error('writer-worker.ts runs as a worker thread')
const db = new DatabaseSync((workerData as { file: string }).file)
db.exec('PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;')
const writes = new Writes(db)

port.on('message', ({ id, group }: ToWriter) => {
  const outcomes = commitGroup(db, writes, JSON.parse(group) as Write[])
  port.postMessage({ id, outcomes: JSON.stringify(outcomes) } satisfies FromWriter)
})
