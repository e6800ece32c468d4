// Command-line options shared by the bench's modes.
import { SERVER_NAMES, type ServerName } from './targets.ts'

/** The picked names of a comma-separated option, in the canonical order; all of them when absent. */
export function listOption<T extends string>(
  value: string | undefined,
  all: readonly T[],
  parse: (s: string) => T,
): T[] {
  if (!value) return [...all]
  const picked = value.split(',').map((s) => parse(s.trim()))
  // Keep the canonical order so tables from different invocations line up.
  return all.filter((x) => picked.includes(x))
}

export function parseServer(s: string): ServerName {
  const found = SERVER_NAMES.find((n) => n === s)
  if (!found)
    throw new Error(`unknown server ${JSON.stringify(s)}; expected one of ${SERVER_NAMES.join(', ')}`)
  return found
}

export function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`)
  return n
}
