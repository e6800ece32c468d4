// SQLite's busy, locked, I/O, full, can't-open and read-only result codes, and a closed handle.
const UNAVAILABLE = new Set([5, 6, 8, 10, 13, 14])

/** Whether a node:sqlite error means the database cannot be used now, rather than a bug. */
export function isSqliteUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const { code, errcode } = error as { code?: string; errcode?: number }
  if (code === 'ERR_INVALID_STATE') return true
  return code === 'ERR_SQLITE_ERROR' && errcode !== undefined && UNAVAILABLE.has(errcode & 0xff)
}
