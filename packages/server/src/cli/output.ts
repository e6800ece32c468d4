import type { Writable } from 'node:stream'

/** Writes a command's result: one JSON document with --json, else readable text. */
export interface Output {
  json: boolean
  result(value: unknown, text: () => string): void
  /**
   * A list written as it is read, for lists that may not fit in memory (a million clients): a
   * JSON array as `result` would print it, or a table aligned a thousand rows at a time.
   */
  list(rows: AsyncIterable<Record<string, unknown>>, columns: string[]): Promise<void>
  /** Progress and notes go to standard error, so --json output stays machine-clean. */
  note(message: string): void
}

const TABLE_CHUNK = 1000
const FLUSH_AT = 64 * 1024

export function createOutput(
  json: boolean,
  stdout: Writable = process.stdout,
  stderr: Writable = process.stderr,
): Output {
  return {
    json,
    result(value, text) {
      stdout.write(json ? `${toJson(value)}\n` : `${text()}\n`)
    },
    async list(rows, columns) {
      const out = new BufferedWriter(stdout)
      await (json ? writeJsonArray(out, rows) : writeTable(out, rows, columns))
      await out.flush()
    },
    note(message) {
      stderr.write(`${message}\n`)
    },
  }
}

/** Writes the array as `JSON.stringify(array, null, 2)` would, an element at a time. */
async function writeJsonArray(out: BufferedWriter, rows: AsyncIterable<Record<string, unknown>>) {
  let first = true
  for await (const row of rows) {
    if (out.closed) return
    // JSON.stringify escapes newlines inside strings, so each of these is a line break.
    const element = toJson(row).replaceAll('\n', '\n  ')
    await out.write(`${first ? '[\n' : ',\n'}  ${element}`)
    first = false
  }
  await out.write(first ? '[]\n' : '\n]\n')
}

/**
 * `JSON.stringify(value, null, 2)`, with C1 control characters escaped too: JSON.stringify
 * escapes only C0, and U+009B alone is an escape sequence's start to some terminals.
 */
function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u0080-\u009f]/g, escapeControl)
}

/**
 * Writes a table a chunk of rows at a time, each chunk aligned before it goes out. Columns
 * widen as wider values come, and never narrow.
 */
async function writeTable(
  out: BufferedWriter,
  rows: AsyncIterable<Record<string, unknown>>,
  columns: string[],
) {
  let widths = columns.map((c) => c.length)
  let chunk: string[][] = []
  let written = 0
  const flushChunk = async () => {
    widths = widths.map((w, i) => Math.max(w, ...chunk.map((cells) => cells[i]!.length)))
    if (written === 0) await out.write(`${tableLine(headings(columns), widths)}\n`)
    for (const cells of chunk) await out.write(`${tableLine(cells, widths)}\n`)
    written += chunk.length
    chunk = []
  }
  for await (const row of rows) {
    if (out.closed) return
    chunk.push(columns.map((c) => format(row[c])))
    if (chunk.length === TABLE_CHUNK) await flushChunk()
  }
  if (chunk.length > 0) await flushChunk()
  if (written === 0) await out.write('(none)\n')
}

/**
 * Gathers small writes into larger ones and waits when the stream asks it to. A reader that
 * goes away (`gatehouse clients list | head`) closes it quietly: the rest is not written.
 */
class BufferedWriter {
  private pending = ''
  private readonly stream: Writable
  private failure: Error | undefined
  private wake: (() => void) | undefined
  closed = false

  constructor(stream: Writable) {
    this.stream = stream
    stream.on('error', (error: NodeJS.ErrnoException) => {
      this.closed = true
      if (error.code !== 'EPIPE') this.failure = error
      this.wake?.()
    })
  }

  async write(text: string): Promise<void> {
    if (this.closed) return
    this.pending += text
    if (this.pending.length >= FLUSH_AT) await this.flush()
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure
    if (this.pending === '' || this.closed) return
    const text = this.pending
    this.pending = ''
    if (this.stream.write(text)) return
    await new Promise<void>((resolve) => {
      this.wake = resolve
      this.stream.once('drain', resolve)
    })
    this.wake = undefined
    if (this.failure) throw this.failure
  }
}

/** A plain table: a header row and aligned columns. */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)'
  const cells = rows.map((row) => columns.map((c) => format(row[c])))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)))
  return [tableLine(headings(columns), widths), ...cells.map((r) => tableLine(r, widths))].join('\n')
}

function headings(columns: string[]): string[] {
  return columns.map((c) => c.toUpperCase())
}

function tableLine(values: string[], widths: number[]): string {
  return values
    .map((v, i) => v.padEnd(widths[i]!))
    .join('  ')
    .trimEnd()
}

/** `key: value` lines for one record. */
export function details(record: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(record).map((k) => k.length))
  return Object.entries(record)
    .map(([k, v]) => `${k.padEnd(width)}  ${format(v)}`)
    .join('\n')
}

function format(value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (Array.isArray(value))
    return value.length === 0
      ? '-'
      : visible(value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(' '))
  if (typeof value === 'object') return visible(JSON.stringify(value))
  return visible(String(value))
}

/**
 * Control characters written as `\u001b`: names are refused with them now, but a record stored
 * before would otherwise break a table's lines or send its escape sequence to the terminal.
 * (JSON.stringify leaves C1 characters such as U+009B, a one-character escape, as they are.)
 */
function visible(text: string): string {
  return text.replace(/\p{Cc}/gu, escapeControl)
}

function escapeControl(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
}
