import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import {
  type ApiRecord,
  type Change,
  type ChangeKind,
  type ChildRecord,
  type ClientCursor,
  type ClientRecord,
  ConflictError,
  keepWithin,
  type RefreshFamilyRecord,
  type RefreshRotation,
  type ServiceKeyRecord,
  type SigningKeyRecord,
  StorageUnavailableError,
  type Store,
} from '@gatehouse/core'
import { Checkpointer, type CheckpointerOptions } from './checkpointer.ts'
import { openConnection } from './connection.ts'
import { GroupCommit } from './group-commit.ts'
import { migrations } from './migrations.ts'
import {
  CLIENT_COLUMNS,
  childRow,
  clientRow,
  REFRESH_FAMILY_COLUMNS,
  type Row,
  refreshFamilyRow,
  toChild,
  toClient,
  toRefreshFamily,
} from './rows.ts'

type SweptTable = 'used_once' | 'refresh_families'
type FamilyFacts = Pick<RefreshFamilyRecord, 'clientId' | 'subject' | 'scopes' | 'createdAt'>
const ROTATE = `UPDATE refresh_families SET secret_hash = ?, rotated_at = ?, expires_at = ?
  WHERE family_id = ? AND secret_hash = ? AND client_id = ? AND revoked = 0 AND expires_at > ?`
// Only the columns the statement does not already know come back (a row of nine cost about
// 1.5 µs more per rotation).
const ROTATE_RETURNING_FACTS = `${ROTATE} RETURNING subject, scopes, created_at`
const FAMILY_FACTS_CAPACITY = 100_000
// The key each table's purge sweep walks in order (neither table has a rowid).
const SWEEP_KEY = { used_once: 'key', refresh_families: 'family_id' } as const
const SWEEP_ROWS = 200

export interface SqliteStoreOptions {
  // Checkpoint the WAL on a thread instead of inside commits (see checkpointer.ts): for a
  // long-running server, not for a CLI command that writes once and exits.
  checkpointThread?: boolean | CheckpointerOptions
  // Told when the checkpoint thread fails and SQLite's own checkpoints take over.
  warn?: (message: string) => void
}

/**
 * The embedded store on node:sqlite. node:sqlite is synchronous; each call is a few
 * microseconds on an indexed key, so it runs inline rather than on a worker. WAL mode lets
 * the CLI write while a server reads.
 */
export class SqliteStore implements Store {
  private readonly db: DatabaseSync
  private readonly statements = new Map<string, StatementSync>()
  private readonly writes: GroupCommit
  private readonly checkpointer: Checkpointer | undefined
  // Where each table's purge sweep goes on from (see purgeSometimes).
  private readonly sweptTo: Record<SweptTable, string> = { used_once: '', refresh_families: '' }
  // What never changes about the refresh families this store has written or read, by id: a
  // family's owner, subject, scopes and start (see rotateCurrent).
  private readonly familyFacts = new Map<string, FamilyFacts>()

  constructor(file: string, options: SqliteStoreOptions = {}) {
    if (file !== ':memory:') {
      // The database holds secret hashes and sealed keys: readable by its owner only. SQLite
      // gives its -wal and -shm files the database file's mode.
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
      closeSync(openSync(file, 'a', 0o600))
    }
    try {
      this.db = openConnection(file, 5000)
    } catch (cause) {
      const why = cause instanceof Error ? `: ${cause.message}` : ''
      throw new StorageUnavailableError(`cannot open the SQLite database at ${file}${why}`, { cause })
    }
    try {
      this.migrate()
    } catch (error) {
      this.db.close()
      throw error
    }
    const { checkpointThread } = options
    if (checkpointThread && file !== ':memory:') {
      this.db.exec('PRAGMA wal_autocheckpoint = 0')
      this.checkpointer = new Checkpointer(
        file,
        {
          released: () => this.writes.resume(),
          failed: (reason) => {
            if (this.db.isOpen) this.db.exec('PRAGMA wal_autocheckpoint = 1000')
            options.warn?.(`SQLite checkpoints run inside commits again: ${reason}`)
          },
        },
        checkpointThread === true ? {} : checkpointThread,
      )
    }
    this.writes = new GroupCommit(this.db, this.checkpointer)
  }

  async getClient(clientId: string) {
    const row = this.sql('SELECT * FROM clients WHERE client_id = ?').get(clientId) as Row | undefined
    return row ? toClient(row) : undefined
  }
  async listClients({ after, limit }: { after?: ClientCursor; limit: number }) {
    const rows = after
      ? this.sql(
          `SELECT * FROM clients WHERE (created_at, client_id) > (?, ?) ORDER BY created_at, client_id LIMIT ?`,
        ).all(after.createdAt, after.clientId, limit)
      : this.sql('SELECT * FROM clients ORDER BY created_at, client_id LIMIT ?').all(limit)
    return (rows as Row[]).map(toClient)
  }
  async countClients() {
    return Number((this.sql('SELECT count(*) AS n FROM clients').get() as Row).n)
  }
  async insertClient(client: ClientRecord) {
    this.transaction(() => {
      this.unique(`client ${client.clientId} exists`, () =>
        this.sql(
          `INSERT INTO clients (${CLIENT_COLUMNS.join(', ')}) VALUES (${CLIENT_COLUMNS.map(() => '?').join(',')})`,
        ).run(...clientRow(client)),
      )
      this.record('client', client.clientId)
    })
  }
  async updateClient(client: ClientRecord, previous: ClientRecord) {
    return this.transaction(() => {
      const [, ...rest] = clientRow(client)
      // Every column as it was read: a row another process changed meanwhile is left alone.
      const { changes } = this.sql(
        `UPDATE clients SET name = ?, scopes = ?, grants = ?, token_ttl = ?, enabled = ?, is_public = ?, introspect = ?,
           signature = ?, secrets = ?, sealed_secret = ?, created_at = ?, updated_at = ?, jwks = ?, jwks_uri = ?
         WHERE ${CLIENT_COLUMNS.map((column) => `${column} IS ?`).join(' AND ')}`,
      ).run(...rest, ...clientRow(previous))
      if (changes > 0) this.record('client', client.clientId)
      return changes > 0
    })
  }
  async deleteClient(clientId: string) {
    return this.transaction(() => {
      const { changes } = this.sql('DELETE FROM clients WHERE client_id = ?').run(clientId)
      if (changes > 0) this.record('client', clientId)
      return changes > 0
    })
  }

  async getServiceKey(clientId: string, serviceName: string) {
    const row = this.sql('SELECT * FROM service_keys WHERE client_id = ? AND service_name = ?').get(
      clientId,
      serviceName,
    ) as Row | undefined
    return row
      ? {
          clientId: String(row.client_id),
          serviceName: String(row.service_name),
          keyHash: String(row.key_hash),
          scopes: JSON.parse(String(row.scopes)),
          createdAt: Number(row.created_at),
        }
      : undefined
  }
  async insertServiceKey(key: ServiceKeyRecord) {
    this.transaction(() => {
      this.unique(`service ${key.serviceName} exists`, () =>
        this.sql(
          'INSERT INTO service_keys (client_id, service_name, key_hash, scopes, created_at) VALUES (?,?,?,?,?)',
        ).run(key.clientId, key.serviceName, key.keyHash, JSON.stringify(key.scopes), key.createdAt),
      )
      // A client's second credentials change with it: caches keyed by the client drop them.
      this.record('client', key.clientId)
    })
  }
  async deleteServiceKey(clientId: string, serviceName: string) {
    return this.transaction(() => {
      const { changes } = this.sql('DELETE FROM service_keys WHERE client_id = ? AND service_name = ?').run(
        clientId,
        serviceName,
      )
      if (changes > 0) this.record('client', clientId)
      return changes > 0
    })
  }

  async getChild(childKey: string) {
    const row = this.sql('SELECT * FROM children WHERE child_key = ?').get(childKey) as Row | undefined
    return row ? toChild(row) : undefined
  }
  async insertChild(child: ChildRecord) {
    this.transaction(() => {
      this.unique(`child ${child.childKey} exists`, () =>
        this.sql(
          'INSERT INTO children (child_key, client_id, name, secret_hash, enabled, created_at, updated_at) VALUES (?,?,?,?,?,?,?)',
        ).run(...childRow(child)),
      )
      this.record('client', child.clientId)
    })
  }
  async updateChild(child: ChildRecord) {
    return this.transaction(() => {
      const [key, ...rest] = childRow(child)
      const { changes } = this.sql(
        'UPDATE children SET client_id = ?, name = ?, secret_hash = ?, enabled = ?, created_at = ?, updated_at = ? WHERE child_key = ?',
      ).run(...rest, key as string)
      if (changes > 0) this.record('client', child.clientId)
      return changes > 0
    })
  }

  async getRefreshFamily(familyId: string) {
    const row = this.sql('SELECT * FROM refresh_families WHERE family_id = ?').get(familyId) as
      | Row
      | undefined
    return row ? toRefreshFamily(row) : undefined
  }
  async insertRefreshFamily(family: RefreshFamilyRecord) {
    // Families that are started and never refreshed must expire out of the table too.
    this.purgeSometimes('refresh_families', Math.floor(Date.now() / 1000))
    // Every refresh-dialect token request starts a family: they share commits too.
    await this.writes.run(() =>
      this.unique('refresh family exists', () =>
        this.sql(
          `INSERT INTO refresh_families (${REFRESH_FAMILY_COLUMNS.join(', ')}) VALUES (${REFRESH_FAMILY_COLUMNS.map(() => '?').join(',')})`,
        ).run(...refreshFamilyRow(family)),
      ),
    )
    this.rememberFamily(family.familyId, family)
  }
  async rotateRefreshFamily(
    familyId: string,
    secretHash: string,
    clientId: string,
    next: Pick<RefreshFamilyRecord, 'secretHash' | 'rotatedAt' | 'expiresAt'>,
    now: number,
  ): Promise<RefreshRotation> {
    this.purgeSometimes('refresh_families', now)
    // The group commit's BEGIN IMMEDIATE takes the write lock first, so the read and the
    // write below see no other writer in between, in this process or another.
    return this.writes.run((): RefreshRotation => {
      // The usual case, in one statement: the secret is current and the family live and this client's.
      const rotated = this.rotateCurrent(familyId, secretHash, clientId, next, now)
      if (rotated) return { outcome: 'rotated', family: rotated }
      const row = this.sql(
        'SELECT client_id, revoked, expires_at FROM refresh_families WHERE family_id = ?',
      ).get(familyId) as Row | undefined
      if (!row || row.client_id !== clientId || row.revoked === 1 || Number(row.expires_at) <= now) {
        return { outcome: 'invalid' }
      }
      // Live, this client's, and presented with a secret that is not the current one: a spent one.
      this.sql('UPDATE refresh_families SET revoked = 1 WHERE family_id = ?').run(familyId)
      return { outcome: 'reused' }
    })
  }
  async revokeRefreshFamily(familyId: string) {
    this.sql('UPDATE refresh_families SET revoked = 1 WHERE family_id = ?').run(familyId)
  }
  async trimRefreshFamilies(clientId: string, keep: number) {
    // The client's index runs by start: the newest `keep` are stepped over, the rest deleted.
    return this.writes.run(
      () =>
        this.sql(
          `DELETE FROM refresh_families WHERE family_id IN (
             SELECT family_id FROM refresh_families WHERE client_id = ?
             ORDER BY created_at DESC, family_id DESC LIMIT -1 OFFSET ?)`,
        ).run(clientId, keep).changes as number,
    )
  }

  async revokeAccessToken(jti: string, expiresAt: number) {
    this.sql(
      `INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (?, ?)
       ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
    ).run(jti, expiresAt)
    // The denylist only holds tokens that are still alive, so it cannot grow without bound.
    this.sql('DELETE FROM revoked_access_tokens WHERE expires_at <= ?').run(Math.floor(Date.now() / 1000))
  }
  async isAccessTokenRevoked(jti: string, now: number) {
    return (
      this.sql('SELECT 1 FROM revoked_access_tokens WHERE jti = ? AND expires_at > ?').get(jti, now) !==
      undefined
    )
  }

  async listApis() {
    return (this.sql('SELECT * FROM apis ORDER BY created_at, identifier').all() as Row[]).map(
      (row): ApiRecord => ({
        identifier: String(row.identifier),
        scopes: JSON.parse(String(row.scopes)),
        createdAt: Number(row.created_at),
      }),
    )
  }
  async insertApi(api: ApiRecord) {
    this.transaction(() => {
      this.unique(`API ${api.identifier} exists`, () =>
        this.sql('INSERT INTO apis (identifier, scopes, created_at) VALUES (?,?,?)').run(
          api.identifier,
          JSON.stringify(api.scopes),
          api.createdAt,
        ),
      )
      this.record('api', api.identifier)
    })
  }

  async listSigningKeys() {
    return (this.sql('SELECT * FROM signing_keys ORDER BY created_at, kid').all() as Row[]).map(
      (row): SigningKeyRecord => ({
        kid: String(row.kid),
        alg: String(row.alg) as SigningKeyRecord['alg'],
        publicJwk: JSON.parse(String(row.public_jwk)),
        sealedPrivateKey: String(row.sealed_private_key),
        createdAt: Number(row.created_at),
        activatesAt: Number(row.activates_at),
        retiresAt: row.retires_at === null ? null : Number(row.retires_at),
      }),
    )
  }
  async insertSigningKey(key: SigningKeyRecord) {
    this.transaction(() => {
      this.unique(`key ${key.kid} exists`, () =>
        this.sql(
          `INSERT INTO signing_keys (kid, alg, public_jwk, sealed_private_key, created_at, activates_at, retires_at)
           VALUES (?,?,?,?,?,?,?)`,
        ).run(
          key.kid,
          key.alg,
          JSON.stringify(key.publicJwk),
          key.sealedPrivateKey,
          key.createdAt,
          key.activatesAt,
          key.retiresAt,
        ),
      )
      this.record('key', key.kid)
    })
  }
  async retireSigningKeys(kids: string[], retiresAt: number) {
    this.transaction(() => {
      for (const kid of kids) {
        const { changes } = this.sql('UPDATE signing_keys SET retires_at = ? WHERE kid = ?').run(
          retiresAt,
          kid,
        )
        if (changes > 0) this.record('key', kid)
      }
    })
  }

  async latestChange() {
    return Number((this.sql('SELECT coalesce(max(seq), 0) AS seq FROM changes').get() as Row).seq)
  }
  async changesSince(seq: number, limit: number) {
    return (
      this.sql('SELECT seq, kind, id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?').all(
        seq,
        limit,
      ) as Row[]
    ).map(
      (row): Change => ({ seq: Number(row.seq), kind: String(row.kind) as ChangeKind, id: String(row.id) }),
    )
  }

  async consumeOnce(key: string, expiresAt: number) {
    const now = Math.floor(Date.now() / 1000)
    // One statement under SQLite's write lock, so it is atomic across processes: it inserts
    // a new key or takes over an expired one, and touches nothing when the key is live.
    this.purgeSometimes('used_once', now)
    return this.writes.run(() => {
      const { changes } = this.sql(
        `INSERT INTO used_once (key, expires_at) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_once.expires_at <= ?`,
      ).run(key, expiresAt, now)
      return changes > 0
    })
  }

  async ping() {
    try {
      this.sql('SELECT 1').get()
    } catch (cause) {
      throw new StorageUnavailableError('the SQLite database does not answer', { cause })
    }
  }
  async close() {
    if (!this.db.isOpen) return
    // The thread's connection closes first, so the last one to close checkpoints the WAL away.
    await this.checkpointer?.close()
    this.writes.drain()
    this.db.close()
  }

  /**
   * Rotates the family if `secretHash` is its current secret, it is live and it is `clientId`'s;
   * answers the family after the rotation, or undefined. What never changes about a family is
   * known from `familyFacts` when it can be, and otherwise returned by the statement: RETURNING
   * and the row it builds cost more than the rest of a rotation (bench/store-writes.ts).
   */
  private rotateCurrent(
    familyId: string,
    secretHash: string,
    clientId: string,
    next: Pick<RefreshFamilyRecord, 'secretHash' | 'rotatedAt' | 'expiresAt'>,
    now: number,
  ): RefreshFamilyRecord | undefined {
    const values = [next.secretHash, next.rotatedAt, next.expiresAt, familyId, secretHash, clientId, now]
    let facts = this.familyFacts.get(familyId)
    if (facts) {
      if (this.sql(ROTATE).run(...values).changes === 0) return undefined
    } else {
      const row = this.sql(ROTATE_RETURNING_FACTS).get(...values) as Row | undefined
      if (!row) return undefined
      facts = this.rememberFamily(familyId, {
        clientId,
        subject: String(row.subject),
        scopes: JSON.parse(String(row.scopes)),
        createdAt: Number(row.created_at),
      })
    }
    return { familyId, ...facts, scopes: [...facts.scopes], ...next, revoked: false }
  }

  private rememberFamily(
    familyId: string,
    { clientId, subject, scopes, createdAt }: FamilyFacts,
  ): FamilyFacts {
    const facts = { clientId, subject, scopes: [...scopes], createdAt }
    this.familyFacts.set(familyId, facts)
    keepWithin(this.familyFacts, FAMILY_FACTS_CAPACITY)
    return facts
  }

  /**
   * On one write in a hundred, drops expired rows in the next group commit, as a write of its
   * own: it may fail alone. Each purge sweeps the next 200 rows in key order and deletes the
   * expired among them, and the sweep comes round again at the end. The tables have no index
   * on `expires_at` to find expired rows with: keeping one up to date cost a rotation a page
   * of the index for each family it touched (a third of its cost with 200,000 families), and
   * a replay key a fifth. The sweep reads two rows per write, so a row outlives its expiry by
   * at most one round and a table holds at most about twice its live rows. The 200 bound
   * keeps a commit small: after a quiet spell, a purge of everything expired meanwhile made
   * one commit write thousands of pages while the event loop waited.
   */
  private purgeSometimes(table: SweptTable, now: number): void {
    if (Math.random() >= 0.01) return
    this.writes
      .run(() => {
        const from = this.sweptTo[table]
        const key = SWEEP_KEY[table]
        // The window's last row, found by stepping over the rows before it: a third of what
        // counting the window and taking its maximum cost (10 against 28 µs with 300,000 keys).
        const end = this.sql(
          `SELECT ${key} AS last FROM ${table} WHERE ${key} > ? ORDER BY ${key} LIMIT 1 OFFSET ${SWEEP_ROWS - 1}`,
        ).get(from) as { last: string } | undefined
        if (end)
          this.sql(`DELETE FROM ${table} WHERE ${key} > ? AND ${key} <= ? AND expires_at <= ?`).run(
            from,
            end.last,
            now,
          )
        else this.sql(`DELETE FROM ${table} WHERE ${key} > ? AND expires_at <= ?`).run(from, now)
        // At the end the next purge starts again from the first row, rather than waiting at the
        // end for rows that a busy table adds faster than purges come.
        this.sweptTo[table] = end ? end.last : ''
      })
      .catch(() => {})
  }

  private sql(text: string): StatementSync {
    let statement = this.statements.get(text)
    if (!statement) {
      statement = this.db.prepare(text)
      this.statements.set(text, statement)
    }
    return statement
  }

  private record(kind: ChangeKind, id: string): void {
    this.sql('INSERT INTO changes (kind, id) VALUES (?, ?)').run(kind, id)
    // The feed only needs to reach pollers that are a few seconds behind.
    this.sql('DELETE FROM changes WHERE seq <= last_insert_rowid() - 100000').run()
  }

  private transaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const result = work()
      this.db.exec('COMMIT')
      this.checkpointer?.committed()
      return result
    } catch (error) {
      this.db.exec('ROLLBACK')
      throw error
    }
  }

  private unique(message: string, work: () => unknown): void {
    try {
      work()
    } catch (error) {
      if (error instanceof Error && /UNIQUE constraint failed/.test(error.message))
        throw new ConflictError(message)
      throw error
    }
  }

  /**
   * Brings the schema up to date under the write lock, from the first read of its version: two
   * processes opening a new or older database at once (two servers, a server and the CLI) would
   * otherwise both read the same version and both apply the next migration, and one would fail
   * on a table or column the other had just made.
   */
  private migrate(): void {
    this.transaction(() => {
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT',
      )
      const applied = Number(
        (this.db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as Row).v,
      )
      if (applied > migrations.length) {
        throw new Error(
          `the database is at schema version ${applied}, newer than this Gatehouse knows (${migrations.length}); upgrade Gatehouse`,
        )
      }
      const record = this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)')
      for (let version = applied + 1; version <= migrations.length; version++) {
        this.db.exec(migrations[version - 1]!)
        record.run(version, Math.floor(Date.now() / 1000))
      }
    })
  }
}

export { isSqliteUnavailable } from './errors.ts'
export { CLIENT_COLUMNS, clientRow } from './rows.ts'
