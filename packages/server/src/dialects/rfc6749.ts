import type { CredentialFields, Template } from './description.ts'

/** RFC 6749 §5.2's error answer: the core codes are already the RFC's codes. */
export const rfc6749Error: Template = { error: '$code', error_description: '$message' }

/** RFC 6749 §2.3.1 client authentication: Basic, or client_id and client_secret in the body. */
export const rfc6749Credentials: CredentialFields = {
  scheme: 'client_secret',
  clientId: 'client_id',
  clientSecret: 'client_secret',
  basic: true,
}
