export { bearerToken } from './bearer.ts'
export { VerifyError, type VerifyErrorCode } from './errors.ts'
export {
  type AuthenticatedRequest,
  type BearerAuthOptions,
  type BearerRequest,
  type BearerResponse,
  bearerAuth,
} from './middleware/connect.ts'
export { type FastifyReplyLike, type FastifyRequestLike, fastifyBearerAuth } from './middleware/fastify.ts'
export {
  type Algorithm,
  type Clock,
  DEFAULT_ALGORITHMS,
  type FetchLike,
  type VerifierOptions,
} from './options.ts'
export type { Actor, VerifiedToken } from './verified-token.ts'
export { createVerifier, type Verifier, type VerifyOptions } from './verifier.ts'
