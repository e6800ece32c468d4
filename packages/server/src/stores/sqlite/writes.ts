import type { DatabaseSync, StatementSync } from 'node:sqlite'
import type { RefreshFamilyRecord, RefreshRotation } from '@gatehouse/core'
import { REFRESH_FAMILY_COLUMNS, type Row, refreshFamilyRow, toRefreshFamily } from './rows.ts'

/**
 * The writes of the token path: each is one change (at most one statement that changes the
 * database), so that a group of them can share a transaction and one that fails is undone
 * alone. They are data, so that the writer thread can run them on a connection of its own.
 */
export type Write =
  | {
      op: 'rotateRefreshFamily'
      familyId: string
      secretHash: string
      clientId: string
      next: Pick<RefreshFamilyRecord, 'secretHash' | 'rotatedAt' | 'expiresAt'>
      now: number
    }
  | { op: 'insertRefreshFamily'; family: RefreshFamilyRecord }
  | { op: 'revokeRefreshFamily'; familyId: string }
  | { op: 'consumeOnce'; key: string; expiresAt: number; now: number }
  | { op: 'purgeExpired'; table: 'refresh_families' | 'used_once'; now: number }

export type WriteResult = RefreshRotation | boolean | undefined

/** A failed write as it crosses threads: enough to tell a conflict or an outage from a bug. */
export interface WriteError {
  name: string
  message: string
  code?: string
  errcode?: number
}

export type Outcome = { ok: true; value: WriteResult } | { ok: false; error: WriteError }

/** Runs writes on one connection, each statement prepared once. */
export class Writes {
  private readonly db: DatabaseSync
  private readonly statements = new Map<string, StatementSync>()

  constructor(db: DatabaseSync) {
    this.db = db
  }

  run(write: Write): WriteResult {
    switch (write.op) {
      case 'rotateRefreshFamily':
        return this.rotate(write)
      case 'insertRefreshFamily':
        this.sql(
          `INSERT INTO refresh_families (${REFRESH_FAMILY_COLUMNS.join(', ')}) VALUES (${REFRESH_FAMILY_COLUMNS.map(() => '?').join(',')})`,
        ).run(...refreshFamilyRow(write.family))
        return undefined
      case 'revokeRefreshFamily':
        this.sql('UPDATE refresh_families SET revoked = 1 WHERE family_id = ?').run(write.familyId)
        return undefined
      case 'consumeOnce': {
        // Inserts a new key or takes over an expired one, and touches nothing when the key is live.
        const { changes } = this.sql(
          `INSERT INTO used_once (key, expires_at) VALUES (?, ?)
           ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_once.expires_at <= ?`,
        ).run(write.key, write.expiresAt, write.now)
        return changes > 0
      }
      case 'purgeExpired':
        this.sql(`DELETE FROM ${write.table} WHERE expires_at <= ?`).run(write.now)
        return undefined
    }
  }

  private rotate(write: Extract<Write, { op: 'rotateRefreshFamily' }>): RefreshRotation {
    const { familyId, secretHash, clientId, next, now } = write
    // The usual case, in one statement: the secret is current and the family live and this client's.
    const rotated = this.sql(
      `UPDATE refresh_families SET secret_hash = ?, rotated_at = ?, expires_at = ?
       WHERE family_id = ? AND secret_hash = ? AND client_id = ? AND revoked = 0 AND expires_at > ?
       RETURNING *`,
    ).get(next.secretHash, next.rotatedAt, next.expiresAt, familyId, secretHash, clientId, now) as
      | Row
      | undefined
    if (rotated) return { outcome: 'rotated', family: toRefreshFamily(rotated) }
    const row = this.sql(
      'SELECT client_id, revoked, expires_at FROM refresh_families WHERE family_id = ?',
    ).get(familyId) as Row | undefined
    if (!row || row.client_id !== clientId || row.revoked === 1 || Number(row.expires_at) <= now) {
      return { outcome: 'invalid' }
    }
    // Live, this client's, and presented with a secret that is not the current one: a spent one.
    this.sql('UPDATE refresh_families SET revoked = 1 WHERE family_id = ?').run(familyId)
    return { outcome: 'reused' }
  }

  private sql(text: string): StatementSync {
    let statement = this.statements.get(text)
    if (!statement) {
      statement = this.db.prepare(text)
      this.statements.set(text, statement)
    }
    return statement
  }
}

/**
 * Runs a group of writes in one transaction. A write that fails is undone by SQLite alone
 * (a failed statement leaves the transaction as it was) and the others stand; an error that
 * makes SQLite roll the whole transaction back fails the whole group, and nothing of it is
 * written. None is reported done before the commit.
 */
export function commitGroup(db: DatabaseSync, writes: Writes, group: readonly Write[]): Outcome[] {
  const failAll = (error: unknown): Outcome[] => group.map(() => ({ ok: false, error: writeError(error) }))
  try {
    db.exec('BEGIN IMMEDIATE')
  } catch (error) {
    return failAll(error)
  }
  const outcomes: Outcome[] = []
  for (const write of group) {
    try {
      outcomes.push({ ok: true, value: writes.run(write) })
    } catch (error) {
      // SQLite rolled the transaction back: what ran before is undone, and what would run
      // next must not run outside a transaction.
      if (!db.isTransaction) return failAll(error)
      outcomes.push({ ok: false, error: writeError(error) })
    }
  }
  try {
    db.exec('COMMIT')
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK')
    return failAll(error)
  }
  return outcomes
}

export function writeError(error: unknown): WriteError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) }
  const { code, errcode } = error as { code?: string; errcode?: number }
  return {
    name: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code }),
    ...(errcode === undefined ? {} : { errcode }),
  }
}

/** The error a failed write is reported as on the calling thread, with the driver's codes kept. */
export function toError(error: WriteError): Error {
  return Object.assign(new Error(error.message), error)
}
