/** Writes a command's result: one JSON document with --json, else readable text. */
export interface Output {
  json: boolean
  result(value: unknown, text: () => string): void
  /** Progress and notes go to standard error, so --json output stays machine-clean. */
  note(message: string): void
}

export function createOutput(json: boolean, stdout = process.stdout, stderr = process.stderr): Output {
  return {
    json,
    result(value, text) {
      stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`)
    },
    note(message) {
      stderr.write(`${message}\n`)
    },
  }
}

/** A plain table: a header row and aligned columns. */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)'
  const cells = rows.map((row) => columns.map((c) => format(row[c])))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)))
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n')
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
      : value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(' ')
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}
