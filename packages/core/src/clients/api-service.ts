import { type Clock, nowSeconds } from '../clock.ts'
import type { ApiRecord } from '../model.ts'
import type { Store } from '../storage/port.ts'
import { isValidScope } from '../tokens/scope.ts'
import { ValidationError } from './client-service.ts'

/** Registers APIs: the owners of scopes, whose identifiers become a token's `aud`. */
export class ApiService {
  private readonly store: Store
  private readonly clock: Clock

  constructor(options: { store: Store; clock: Clock }) {
    this.store = options.store
    this.clock = options.clock
  }

  async create(input: { identifier: string; scopes: string[] }): Promise<ApiRecord> {
    const identifier = input.identifier.trim()
    if (!/^[\x21-\x7E]{1,512}$/.test(identifier))
      throw new ValidationError('--identifier must be a URI of visible ASCII characters')
    if (input.scopes.length === 0) throw new ValidationError('an API needs at least one --scope')
    const bad = input.scopes.find((s) => !isValidScope(s))
    if (bad !== undefined) throw new ValidationError(`invalid scope "${bad}"`)
    const taken = (await this.store.listApis()).find((api) =>
      api.scopes.some((s) => input.scopes.includes(s)),
    )
    if (taken) throw new ValidationError(`a scope is already claimed by the API ${taken.identifier}`)
    const api: ApiRecord = {
      identifier,
      scopes: [...new Set(input.scopes)],
      createdAt: nowSeconds(this.clock),
    }
    await this.store.insertApi(api)
    return api
  }

  list(): Promise<ApiRecord[]> {
    return this.store.listApis()
  }
}
