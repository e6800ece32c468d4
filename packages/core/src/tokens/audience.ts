import { OAuthError } from '../errors.ts'
import type { ApiRecord } from '../model.ts'

/**
 * Maps scopes to the identifiers of the APIs that claim them; those identifiers are a token's
 * `aud`. A scope that no API claims belongs to the default API.
 */
export class AudienceResolver {
  private byScope = new Map<string, string>()
  private identifiers = new Set<string>()
  private readonly defaultAudience: string
  private readonly allowMultiple: boolean

  constructor(options: { defaultAudience: string; allowMultiple: boolean }) {
    this.defaultAudience = options.defaultAudience
    this.allowMultiple = options.allowMultiple
  }

  load(apis: readonly ApiRecord[]): void {
    const byScope = new Map<string, string>()
    for (const api of apis) for (const scope of api.scopes) byScope.set(scope, api.identifier)
    this.byScope = byScope
    this.identifiers = new Set([this.defaultAudience, ...apis.map((a) => a.identifier)])
  }

  /**
   * The audience of a token with `scopes`. A `resource` (RFC 8707) narrows the token to that
   * one API and the scopes that belong to it. A token for several APIs is refused unless
   * configured, since each of them could replay it to the others.
   */
  resolve(
    scopes: readonly string[],
    resource?: string,
  ): { audience: string | string[]; scopes: readonly string[] } {
    if (resource !== undefined) {
      if (!this.identifiers.has(resource))
        throw new OAuthError('invalid_target', `The resource "${resource}" is not known here.`)
      const narrowed = scopes.filter((s) => this.audienceOf(s) === resource)
      if (scopes.length > 0 && narrowed.length === 0) {
        throw new OAuthError(
          'invalid_target',
          `None of the granted scopes belongs to the resource "${resource}".`,
        )
      }
      return { audience: resource, scopes: narrowed }
    }
    if (scopes.length === 0) return { audience: this.defaultAudience, scopes }
    // The usual case, and on every token: all scopes belong to one API.
    const first = this.audienceOf(scopes[0]!)
    if (scopes.every((s) => this.audienceOf(s) === first)) return { audience: first, scopes }
    const audiences = [...new Set(scopes.map((s) => this.audienceOf(s)))].sort()
    if (!this.allowMultiple) {
      throw new OAuthError(
        'invalid_target',
        'The scopes belong to several APIs; ask for one API with the resource parameter or with narrower scopes.',
      )
    }
    return { audience: audiences, scopes }
  }

  private audienceOf(scope: string): string {
    return this.byScope.get(scope) ?? this.defaultAudience
  }
}
