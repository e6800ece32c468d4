import type { ApiRecord } from '../model.ts'

/**
 * Maps scopes to the identifiers of the APIs that claim them; those identifiers are a token's
 * `aud`. A scope that no API claims belongs to the default API.
 */
export class AudienceResolver {
  private byScope = new Map<string, string>()
  private readonly defaultAudience: string

  constructor(defaultAudience: string) {
    this.defaultAudience = defaultAudience
  }

  load(apis: readonly ApiRecord[]): void {
    const byScope = new Map<string, string>()
    for (const api of apis) for (const scope of api.scopes) byScope.set(scope, api.identifier)
    this.byScope = byScope
  }

  /** A single audience is a string, several an array (RFC 7519 §4.1.3 allows both). */
  resolve(scopes: readonly string[]): string | string[] {
    if (scopes.length === 0) return this.defaultAudience
    const audiences = new Set<string>()
    for (const scope of scopes) audiences.add(this.byScope.get(scope) ?? this.defaultAudience)
    return audiences.size === 1 ? audiences.values().next().value! : [...audiences].sort()
  }
}
