import type {
  ApiRecord,
  Change,
  ChildRecord,
  ClientRecord,
  RefreshFamilyRecord,
  RefreshRotation,
  ServiceKeyRecord,
  SigningKeyRecord,
} from '../model.ts'

/** Where a page of clients ends: the next page starts after this client. */
export type ClientCursor = Pick<ClientRecord, 'createdAt' | 'clientId'>

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
  /**
   * Up to `limit` clients in the order they were created (by `createdAt`, then `clientId`),
   * starting after `after`: a page, so that listing a million clients never holds them all.
   */
  listClients(page: { after?: ClientCursor; limit: number }): Promise<ClientRecord[]>
  countClients(): Promise<number>
  insertClient(client: ClientRecord): Promise<void>
  /**
   * Replaces the record if it is still `previous` (as read before the change), so that two
   * processes changing one client at once cannot undo each other's change; false when no client
   * has that id, or its record has changed since.
   */
  updateClient(client: ClientRecord, previous: ClientRecord): Promise<boolean>
  deleteClient(clientId: string): Promise<boolean>

  /**
   * Deleting a client deletes its service keys, children and refresh-token families. Writing a
   * service key or a child appends a 'client' change for its client.
   */
  getServiceKey(clientId: string, serviceName: string): Promise<ServiceKeyRecord | undefined>
  insertServiceKey(key: ServiceKeyRecord): Promise<void>
  /** False when the client has no such service key. */
  deleteServiceKey(clientId: string, serviceName: string): Promise<boolean>

  getChild(childKey: string): Promise<ChildRecord | undefined>
  insertChild(child: ChildRecord): Promise<void>
  updateChild(child: ChildRecord): Promise<boolean>

  getRefreshFamily(familyId: string): Promise<RefreshFamilyRecord | undefined>
  insertRefreshFamily(family: RefreshFamilyRecord): Promise<void>
  /**
   * Replaces the current secret of a live family of `clientId` in one atomic step, when
   * `secretHash` is that current secret: of two concurrent rotations with one secret,
   * exactly one is `rotated`. Another secret of such a family is a spent one: the family is
   * revoked (`reused`). An unknown, expired or revoked family, or another client's, is
   * `invalid` and left untouched.
   */
  rotateRefreshFamily(
    familyId: string,
    secretHash: string,
    clientId: string,
    next: Pick<RefreshFamilyRecord, 'secretHash' | 'rotatedAt' | 'expiresAt'>,
    now: number,
  ): Promise<RefreshRotation>
  revokeRefreshFamily(familyId: string): Promise<void>
  /**
   * Deletes `clientId`'s refresh families beyond the `keep` it started last (by `createdAt`,
   * then `familyId`), and answers how many went.
   */
  trimRefreshFamilies(clientId: string, keep: number): Promise<number>

  /** Denies an access token's jti until `expiresAt`, when the token would have expired anyway. */
  revokeAccessToken(jti: string, expiresAt: number): Promise<void>
  isAccessTokenRevoked(jti: string, now: number): Promise<boolean>

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
