import type { GrantHandler } from './grant.ts'

/** Grant handlers by grant type; built-ins register through the same call an extension uses. */
export class GrantRegistry {
  private readonly handlers = new Map<string, GrantHandler>()

  register(handler: GrantHandler): this {
    if (this.handlers.has(handler.grantType))
      throw new Error(`grant ${handler.grantType} is already registered`)
    this.handlers.set(handler.grantType, handler)
    return this
  }

  get(grantType: string): GrantHandler | undefined {
    return this.handlers.get(grantType)
  }

  types(): string[] {
    return [...this.handlers.keys()]
  }
}
