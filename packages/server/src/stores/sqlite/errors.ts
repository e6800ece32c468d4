// SQLite's busy, locked, I/O, full, can't-open and read-only result codes, and a closed handle.
const UNAVAILABLE = new Set([5, 6, 8, 10, 13, 14])

/** Whether a node:sqlite error means the database cannot be used now, rather than a bug. */
export function isSqliteUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const { code, errcode } = error as { code?: string; errcode?: number }
  if (code === 'ERR_INVALID_STATE') return true
  return code === 'ERR_SQLITE_ERROR' && errcode !== undefined && UNAVAILABLE.has(errcode & 0xff)
}

/** Whether a node:sqlite error is SQLITE_BUSY: another connection holds the lock it needed. */
export function isSqliteBusy(error: unknown): boolean {
  return error instanceof Error && ((error as { errcode?: number }).errcode ?? 0) % 256 === SQLITE_BUSY
}

const SQLITE_BUSY = 5
