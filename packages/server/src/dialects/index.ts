import type { Config } from '@gatehouse/core'
import type { TokenDialect } from './dialect.ts'
import { createDialect } from './engine.ts'
import { oauth2Dialect } from './oauth2/oauth2.ts'
import { refreshableDialect } from './refreshable/refreshable.ts'
import { servicekeyDialect } from './servicekey/servicekey.ts'
import { signatureDialect } from './signature/signature.ts'

/** The enabled token dialects, in the order their routes are mounted. */
export function enabledDialects(config: Config): TokenDialect[] {
  const { oauth2, servicekey, signature, refreshable } = config.endpoints
  return [
    oauth2.enabled && oauth2Dialect(oauth2),
    servicekey.enabled && servicekeyDialect(servicekey),
    signature.enabled && signatureDialect(signature),
    refreshable.enabled && refreshableDialect(refreshable),
  ]
    .filter((d) => d !== false)
    .map(createDialect)
}
