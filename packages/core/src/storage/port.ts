import type { ApiRecord, Change, ClientRecord, SigningKeyRecord } from '../model.ts'

/**
 * The storage port. Every mutation appends to the change feed in the same transaction, so
 * a process polling `changesSince` sees every change another process made (the CLI and a
 * running server share a database, not memory).
 *
 * Stores throw ConflictError on a taken unique key and StorageUnavailableError when the
 * database cannot be reached; nothing else is part of the contract.
 */
export interface Store {
  getClient(clientId: string): Promise<ClientRecord | undefined>
  listClients(): Promise<ClientRecord[]>
  countClients(): Promise<number>
  insertClient(client: ClientRecord): Promise<void>
  /** Replaces the record; false when no client has that id. */
  updateClient(client: ClientRecord): Promise<boolean>
  deleteClient(clientId: string): Promise<boolean>

  listApis(): Promise<ApiRecord[]>
  insertApi(api: ApiRecord): Promise<void>

  listSigningKeys(): Promise<SigningKeyRecord[]>
  insertSigningKey(key: SigningKeyRecord): Promise<void>
  /** Sets `retiresAt` on every listed key in one transaction. */
  retireSigningKeys(kids: string[], retiresAt: number): Promise<void>

  /** The highest change sequence number, 0 when there is none. */
  latestChange(): Promise<number>
  /** Changes after `seq`, oldest first, at most `limit`. */
  changesSince(seq: number, limit: number): Promise<Change[]>

  /**
   * Records `key` as used until `expiresAt` (Unix seconds) and answers true, or answers
   * false when it is already recorded and not yet expired. Atomic: of two concurrent calls
   * with one key, exactly one gets true. Backs replay protection.
   */
  consumeOnce(key: string, expiresAt: number): Promise<boolean>

  /** Pings the database; throws StorageUnavailableError when it cannot be reached. */
  ping(): Promise<void>
  close(): Promise<void>
}
