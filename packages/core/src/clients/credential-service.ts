import { type Clock, nowSeconds } from '../clock.ts'
import { NotFoundError } from '../errors.ts'
import type { ChildRecord, ClientRecord, ServiceKeyRecord } from '../model.ts'
import { randomIdentifier, randomToken } from '../random.ts'
import { hashSecret } from '../secrets.ts'
import type { Store } from '../storage/port.ts'
import { isValidScope } from '../tokens/scope.ts'
import { ValidationError, validName } from './client-service.ts'

/**
 * Second credentials under a client: service keys (seed 000) and child credentials
 * (seed 002). Their secrets are 256 random bits, shown once and stored hashed.
 */
export class CredentialService {
  private readonly store: Store
  private readonly clock: Clock

  constructor(options: { store: Store; clock: Clock }) {
    this.store = options.store
    this.clock = options.clock
  }

  async createServiceKey(input: {
    clientId: string
    serviceName: string
    scopes?: string[]
  }): Promise<{ record: ServiceKeyRecord; serviceKey: string }> {
    const client = await this.client(input.clientId)
    if (!client.grants.includes('servicekey')) {
      throw new ValidationError(
        `client ${client.clientId} is not allowed the servicekey grant; create it with --grant servicekey`,
      )
    }
    const serviceName = input.serviceName.trim()
    if (!/^[\x21-\x7E]{1,200}$/.test(serviceName))
      throw new ValidationError('--service-name must be 1 to 200 visible ASCII characters')
    const scopes = [...new Set(input.scopes ?? [])]
    const foreign = scopes.find((s) => !isValidScope(s) || !client.scopes.includes(s))
    if (foreign !== undefined)
      throw new ValidationError(`scope "${foreign}" is not one of the client's scopes`)
    const serviceKey = randomToken(32)
    const record: ServiceKeyRecord = {
      clientId: client.clientId,
      serviceName,
      keyHash: await hashSecret(serviceKey, 'generated'),
      scopes,
      createdAt: nowSeconds(this.clock),
    }
    await this.store.insertServiceKey(record)
    return { record, serviceKey }
  }

  /** Revokes one service key (a leaked one, say) and leaves the client's others working. */
  async deleteServiceKey(clientId: string, serviceName: string): Promise<void> {
    if (!(await this.store.deleteServiceKey(clientId, serviceName)))
      throw new NotFoundError(`client ${clientId} has no service key named ${serviceName}`)
  }

  async createChild(input: {
    clientId: string
    name: string
  }): Promise<{ record: ChildRecord; childSecret: string }> {
    const client = await this.client(input.clientId)
    if (!client.grants.some((g) => g === 'csp_credentials' || g === 'client_pc_credentials')) {
      throw new ValidationError(
        `client ${client.clientId} is allowed neither csp_credentials nor client_pc_credentials; create it with --grant csp_credentials`,
      )
    }
    const name = validName(input.name)
    const childSecret = randomToken(32)
    const now = nowSeconds(this.clock)
    const record: ChildRecord = {
      childKey: randomIdentifier(16),
      clientId: client.clientId,
      name,
      secretHash: await hashSecret(childSecret, 'generated'),
      enabled: true,
      createdAt: now,
      updatedAt: now,
    }
    await this.store.insertChild(record)
    return { record, childSecret }
  }

  async setChildEnabled(childKey: string, enabled: boolean): Promise<ChildRecord> {
    const child = await this.store.getChild(childKey)
    if (!child) throw new NotFoundError(`no child has the key ${childKey}`)
    const updated = { ...child, enabled, updatedAt: nowSeconds(this.clock) }
    await this.store.updateChild(updated)
    return updated
  }

  private async client(clientId: string): Promise<ClientRecord> {
    const client = await this.store.getClient(clientId)
    if (!client) throw new NotFoundError(`no client has the id ${clientId}`)
    return client
  }
}
