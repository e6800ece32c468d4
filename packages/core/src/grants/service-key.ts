import { OAuthError } from '../errors.ts'
import { verifySecretOrNothing } from '../secrets.ts'
import { grantScopes } from '../tokens/scope.ts'
import type { GrantHandler } from './grant.ts'
import { issueTokenResult } from './issue.ts'

/**
 * Seed 000's `servicekey` grant: a named service under the client proves itself with its
 * key; the token's subject is the service.
 */
export const serviceKeyGrant: GrantHandler = {
  grantType: 'servicekey',
  parameters: new Set(['scope', 'resource', 'serviceName', 'serviceKey']),
  allowsPublicClients: true,

  async handle({ client, parameters, ttl }, deps) {
    const { serviceName, serviceKey } = parameters
    if (!serviceName || !serviceKey) {
      throw new OAuthError('invalid_request', 'The serviceName and serviceKey parameters are required.')
    }
    const key = await deps.credentials.serviceKey(client.clientId, serviceName)
    const valid = await verifySecretOrNothing(serviceKey, key?.keyHash)
    if (!key || !valid) throw new OAuthError('invalid_grant', 'The service name or key is invalid.')
    const allowed =
      key.scopes.length > 0 ? key.scopes.filter((s) => client.scopes.includes(s)) : client.scopes
    const scopes = grantScopes(allowed, parameters.scope)
    return issueTokenResult(deps, {
      resource: parameters.resource,
      client,
      subject: key.serviceName,
      scopes,
      ttl,
    })
  },
}
