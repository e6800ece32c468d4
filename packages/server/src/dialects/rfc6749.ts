import type { Template } from './description.ts'

/** RFC 6749 §5.2's error answer: the core codes are already the RFC's codes. */
export const rfc6749Error: Template = { error: '$code', error_description: '$message' }
