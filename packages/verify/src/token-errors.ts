import { VerifyError } from './errors.ts'

// What jose reports, as the client may read it. No description quotes the token or a claim
// value; claim names come from jose's fixed list or ours.
const BY_JOSE_CODE: Record<string, string> = {
  ERR_JWS_INVALID: 'The access token is not a well-formed JWS.',
  ERR_JWT_INVALID: 'The access token is not a well-formed JWT.',
  ERR_JOSE_ALG_NOT_ALLOWED: 'The access token is signed with an algorithm this API does not accept.',
  ERR_JOSE_NOT_SUPPORTED: 'The access token uses a feature this API does not support.',
  ERR_JWKS_NO_MATCHING_KEY: 'The access token is signed with a key the issuer does not publish.',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'The access token names no key (kid) and several keys could verify it.',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'The access token signature is invalid.',
  ERR_JWT_EXPIRED: 'The access token expired.',
}

const BY_CLAIM: Record<string, string> = {
  iss: 'The access token comes from another issuer.',
  aud: 'The access token is not meant for this API (aud).',
  nbf: 'The access token is not valid yet (nbf).',
}

interface JoseFailure {
  code?: unknown
  claim?: unknown
  reason?: unknown
}

/**
 * A jose failure as `invalid_token`; a `VerifyError` (keys unavailable) as it is. Anything else
 * is not a verdict on the token but a fault, and is rethrown for the framework's 500.
 */
export function tokenError(error: unknown): VerifyError {
  if (error instanceof VerifyError) return error
  const failure = (error ?? {}) as JoseFailure
  if (failure.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return invalidToken(claimFailure(failure))
  const description = typeof failure.code === 'string' ? BY_JOSE_CODE[failure.code] : undefined
  if (description !== undefined) return invalidToken(description)
  // jose weighs the issuer's key against the algorithm (an RSA key under 2048 bits, say) only
  // when it verifies: a published key it will not use is the issuer's fault, as is one that
  // will not import, and no verdict on the token.
  if (error instanceof TypeError)
    return new VerifyError(
      'temporarily_unavailable',
      'The token issuer publishes a key that cannot be used.',
      {
        cause: error,
      },
    )
  throw error
}

function claimFailure(failure: JoseFailure): string {
  const claim = String(failure.claim)
  if (failure.reason === 'missing') return `The access token lacks the "${claim}" claim.`
  if (failure.reason === 'invalid') return `The "${claim}" claim of the access token is malformed.`
  return BY_CLAIM[claim] ?? `The "${claim}" claim of the access token failed validation.`
}

export function invalidToken(description: string): VerifyError {
  return new VerifyError('invalid_token', description)
}
