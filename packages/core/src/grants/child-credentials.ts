import { OAuthError } from '../errors.ts'
import type { GrantType } from '../model.ts'
import { verifySecretOrNothing } from '../secrets.ts'
import { grantScopes } from '../tokens/scope.ts'
import type { GrantHandler } from './grant.ts'
import { issueTokenResult } from './issue.ts'

/**
 * Seed 002's parent/child grants (`csp_credentials`, `client_pc_credentials`): an integrator
 * client acts for one of its customers. The token's subject is the customer's child key and
 * `act.sub` the integrator (RFC 8693 §4.1).
 */
export function childCredentialsGrant(
  grantType: Extract<GrantType, 'csp_credentials' | 'client_pc_credentials'>,
): GrantHandler {
  return {
    grantType,
    parameters: new Set(['scope', 'resource', ...CHILD_KEY_NAMES, 'child_secret']),
    allowsPublicClients: false,

    async handle({ client, parameters, ttl }, deps) {
      const childKey = childKeyOf(parameters)
      const childSecret = parameters.child_secret
      if (!childKey || !childSecret)
        throw new OAuthError('invalid_request', 'The child_key and child_secret parameters are required.')
      const child = await deps.credentials.child(childKey)
      const valid = await verifySecretOrNothing(childSecret, child?.secretHash)
      // Another client's child, a disabled child and a wrong secret look the same.
      if (!child || !valid || child.clientId !== client.clientId || !child.enabled) {
        throw new OAuthError('invalid_grant', 'The child credentials are invalid.')
      }
      const scopes = grantScopes(client.scopes, parameters.scope)
      return issueTokenResult(deps, {
        resource: parameters.resource,
        client,
        subject: child.childKey,
        scopes,
        ttl,
        extra: { act: { sub: client.clientId } },
      })
    },
  }
}

// The seed's examples spell it child_key, its schema child_Key and its prose child_id: a client
// written from any of the three works.
const CHILD_KEY_NAMES = ['child_key', 'child_Key', 'child_id'] as const

function childKeyOf(parameters: Readonly<Record<string, string>>): string | undefined {
  const given = CHILD_KEY_NAMES.filter((name) => parameters[name] !== undefined)
  if (given.length > 1)
    throw new OAuthError('invalid_request', `Give the child key once, not as both ${given.join(' and ')}.`)
  return given.length === 1 ? parameters[given[0]!] : undefined
}
