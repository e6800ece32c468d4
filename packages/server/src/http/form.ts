import { OAuthError } from '@gatehouse/core'
import { type HttpInput, mediaType } from './types.ts'

const FORM = 'application/x-www-form-urlencoded'

/**
 * Reads an `application/x-www-form-urlencoded` body. A parameter given twice is refused here,
 * once for every form dialect (RFC 6749 §3.2: parameters MUST NOT be included more than once).
 */
export function parseForm(input: HttpInput): Record<string, string> {
  if (mediaType(input) !== FORM) {
    throw new OAuthError('invalid_request', `The request body must be ${FORM}.`)
  }
  const form: Record<string, string> = Object.create(null)
  for (const [name, value] of new URLSearchParams(input.body.toString('utf8'))) {
    // U+FFFD is what invalid UTF-8, raw or percent-encoded, decodes to.
    if (name.includes('\uFFFD') || value.includes('\uFFFD')) {
      throw new OAuthError('invalid_request', 'The request body is not valid UTF-8 form data.')
    }
    if (name in form)
      throw new OAuthError('invalid_request', `The parameter "${name}" is given more than once.`)
    form[name] = value
  }
  return form
}

/** Empty values count as absent (RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted"). */
export function optional(form: Record<string, string>, name: string): string | undefined {
  const value = form[name]
  return value === undefined || value === '' ? undefined : value
}
