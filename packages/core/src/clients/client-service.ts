import type { MasterKeyCipher } from '../cipher.ts'
import { type Clock, nowSeconds } from '../clock.ts'
import { ConflictError, NotFoundError } from '../errors.ts'
import { type ClientRecord, GRANT_TYPES, type GrantType, type StoredSecret } from '../model.ts'
import { randomIdentifier, randomToken } from '../random.ts'
import { hashSecret } from '../secrets.ts'
import type { ClientCursor, Store } from '../storage/port.ts'
import { isValidScope } from '../tokens/scope.ts'

export interface CreateClientInput {
  name: string
  clientId?: string
  clientSecret?: string
  scopes?: string[]
  grants?: string[]
  tokenTtl?: number
  signature?: boolean
  isPublic?: boolean
  introspect?: boolean
  /** private_key_jwt: the client's public keys, or the URL of its JWKS. Such a client holds no secret. */
  jwks?: unknown
  jwksUri?: string
}

/** A client with the one copy of its secret that anybody will ever see. */
export interface ClientWithSecret {
  client: ClientRecord
  secret: string | undefined
}

export class ValidationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ValidationError'
  }
}

const CLIENT_ID = /^[\x21-\x7E]{1,255}$/

// Control characters (C0, DEL, C1): in a name they would break the CLI's tables, and an escape
// sequence in one would be run by the terminal of whoever lists the clients.
const CONTROL = /\p{Cc}/u

/** A client's or child's name, trimmed: 1 to 200 characters, none of them a control character. */
export function validName(name: string): string {
  const trimmed = name.trim()
  if (trimmed.length === 0 || trimmed.length > 200 || CONTROL.test(trimmed))
    throw new ValidationError('--name must be 1 to 200 characters, none of them a control character')
  return trimmed
}

/** Whether a client could have this id: 1 to 255 visible ASCII characters. */
export function isClientId(id: string): boolean {
  return CLIENT_ID.test(id)
}

/** Registers and manages clients: the operations behind the CLI and the admin API. */
export class ClientService {
  private readonly store: Store
  private readonly cipher: MasterKeyCipher
  private readonly clock: Clock
  private readonly maxTtl: number

  constructor(options: { store: Store; cipher: MasterKeyCipher; clock: Clock; maxTtl: number }) {
    this.store = options.store
    this.cipher = options.cipher
    this.clock = options.clock
    this.maxTtl = options.maxTtl
  }

  async create(input: CreateClientInput): Promise<ClientWithSecret> {
    const now = nowSeconds(this.clock)
    const name = validName(input.name)
    const clientId = input.clientId ?? randomIdentifier(16)
    if (!CLIENT_ID.test(clientId))
      throw new ValidationError('--client-id must be 1 to 255 visible ASCII characters')
    const scopes = unique(input.scopes ?? [])
    const bad = scopes.find((s) => !isValidScope(s))
    if (bad !== undefined)
      throw new ValidationError(`invalid scope "${bad}": no spaces, quotes or backslashes`)
    const grants = this.checkGrants(
      input.grants?.length ? input.grants : ['client_credentials'],
      input.isPublic ?? false,
    )
    const tokenTtl = input.tokenTtl ?? null
    if (tokenTtl !== null) this.checkTtl(tokenTtl)

    const keys = checkClientKeys(input.jwks, input.jwksUri)
    const usesKeys = keys.jwks !== null || keys.jwksUri !== null
    if (usesKeys && (input.isPublic || input.clientSecret !== undefined || input.signature)) {
      throw new ValidationError(
        'a client that authenticates with --jwks holds no secret: drop --public, --client-secret and --signature',
      )
    }
    let secret: string | undefined
    let secrets: StoredSecret[] = []
    if (!input.isPublic && !usesKeys) {
      if (input.clientSecret !== undefined && !/^[\x21-\x7E]{8,512}$/.test(input.clientSecret)) {
        throw new ValidationError('--client-secret must be 8 to 512 visible ASCII characters')
      }
      secret = input.clientSecret ?? randomToken(32)
      secrets = [
        {
          hash: await hashSecret(secret, input.clientSecret ? 'imported' : 'generated'),
          createdAt: now,
          expiresAt: null,
        },
      ]
    } else if (input.clientSecret !== undefined || input.signature) {
      throw new ValidationError(
        'a --public client holds no secret, so it cannot take --client-secret or --signature',
      )
    }

    const client: ClientRecord = {
      clientId,
      name,
      scopes,
      grants,
      tokenTtl,
      enabled: true,
      isPublic: input.isPublic ?? false,
      introspect: input.introspect ?? false,
      signature: input.signature ?? false,
      secrets,
      sealedSecret: input.signature && secret ? this.cipher.encrypt(secret, sealContext(clientId)) : null,
      ...keys,
      createdAt: now,
      updatedAt: now,
    }
    await this.store.insertClient(client)
    return { client, secret }
  }

  async get(clientId: string): Promise<ClientRecord> {
    const client = await this.store.getClient(clientId)
    if (!client) throw new NotFoundError(`no client has the id ${clientId}`)
    return client
  }

  /** Every client in the order they were created, read a page at a time. */
  async *list(pageSize = 1000): AsyncGenerator<ClientRecord> {
    let after: ClientCursor | undefined
    for (;;) {
      const page = await this.store.listClients({ after, limit: pageSize })
      yield* page
      if (page.length < pageSize) return
      after = page[page.length - 1]!
    }
  }

  /**
   * Issues a new secret. The old ones keep working for `grace` seconds (0: stop at once), so
   * that a deployment can roll the new secret out without downtime.
   */
  async rotateSecret(clientId: string, grace = 0): Promise<ClientWithSecret> {
    if (!Number.isInteger(grace) || grace < 0)
      throw new ValidationError('--grace must be a whole number of seconds, 0 or more')
    const secret = randomToken(32)
    const hash = await hashSecret(secret, 'generated')
    const client = await this.change(clientId, (client) => {
      if (client.isPublic || client.jwks !== null || client.jwksUri !== null) {
        throw new ValidationError(
          `client ${clientId} holds no secret (it is public or authenticates with its keys)`,
        )
      }
      const now = nowSeconds(this.clock)
      const old =
        grace === 0
          ? []
          : client.secrets
              .filter((s) => s.expiresAt === null || s.expiresAt > now)
              .map((s) => ({
                ...s,
                expiresAt: Math.min(s.expiresAt ?? Number.POSITIVE_INFINITY, now + grace),
                // The secret that was current keeps its sealed copy while it lasts.
                ...(s.expiresAt === null && client.sealedSecret !== null
                  ? { sealed: client.sealedSecret }
                  : {}),
              }))
      return {
        ...client,
        secrets: [{ hash, createdAt: now, expiresAt: null }, ...old],
        sealedSecret: client.signature ? this.cipher.encrypt(secret, sealContext(clientId)) : null,
        updatedAt: now,
      }
    })
    return { client, secret }
  }

  setEnabled(clientId: string, enabled: boolean): Promise<ClientRecord> {
    return this.change(clientId, (client) => ({ ...client, enabled, updatedAt: nowSeconds(this.clock) }))
  }

  async delete(clientId: string): Promise<void> {
    if (!(await this.store.deleteClient(clientId)))
      throw new NotFoundError(`no client has the id ${clientId}`)
  }

  /**
   * Applies `change` to the client as stored and saves it, reading and applying it again when
   * another process changed the client in between, so that neither change is lost.
   */
  private async change(
    clientId: string,
    change: (client: ClientRecord) => ClientRecord,
  ): Promise<ClientRecord> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const client = await this.get(clientId)
      const updated = change(client)
      if (await this.store.updateClient(updated, client)) return updated
    }
    throw new ConflictError(`client ${clientId} kept changing while this command ran; run it again`)
  }

  private checkGrants(grants: string[], isPublic: boolean): GrantType[] {
    const unknown = grants.find((g) => !(GRANT_TYPES as readonly string[]).includes(g))
    if (unknown !== undefined)
      throw new ValidationError(`unknown grant "${unknown}"; use one of ${GRANT_TYPES.join(', ')}`)
    if (isPublic && grants.some((g) => g !== 'servicekey')) {
      throw new ValidationError('a --public client may use only --grant servicekey')
    }
    return unique(grants) as GrantType[]
  }

  private checkTtl(ttl: number): void {
    if (!Number.isInteger(ttl) || ttl <= 0 || ttl > this.maxTtl) {
      throw new ValidationError(`--token-ttl must be a whole number of seconds from 1 to ${this.maxTtl}`)
    }
  }
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']

/** A client's public keys for private_key_jwt: a JWKS (or one JWK) of public keys, or an http(s) URL. */
function checkClientKeys(jwks: unknown, jwksUri: string | undefined): Pick<ClientRecord, 'jwks' | 'jwksUri'> {
  if (jwks !== undefined && jwksUri !== undefined)
    throw new ValidationError('give the client keys inline or as a URL, not both')
  if (jwksUri !== undefined) {
    let url: URL
    try {
      url = new URL(jwksUri)
    } catch {
      throw new ValidationError(`--jwks ${jwksUri} is not a URL`)
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new ValidationError('--jwks URL must be http or https')
    return { jwks: null, jwksUri: url.href }
  }
  if (jwks === undefined) return { jwks: null, jwksUri: null }
  const set =
    typeof jwks === 'object' && jwks !== null && 'keys' in jwks ? (jwks as { keys: unknown }).keys : [jwks]
  if (!Array.isArray(set) || set.length === 0)
    throw new ValidationError('--jwks must hold a JWK or a JWKS with at least one key')
  for (const key of set) {
    if (typeof key !== 'object' || key === null || typeof (key as { kty?: unknown }).kty !== 'string') {
      throw new ValidationError('--jwks: every key needs a "kty"')
    }
    const secretPart = PRIVATE_JWK_MEMBERS.find((m) => m in key)
    if (secretPart !== undefined) {
      throw new ValidationError(
        `--jwks must hold public keys only; a key has the private member "${secretPart}"`,
      )
    }
  }
  return { jwks: { keys: set as Record<string, unknown>[] }, jwksUri: null }
}

export function sealContext(clientId: string): string {
  return `client-secret:${clientId}`
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)]
}
