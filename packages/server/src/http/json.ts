import { OAuthError } from '@gatehouse/core'
import { type HttpInput, mediaType } from './types.ts'

/**
 * Reads an `application/json` body that must be one object of scalar fields. Numbers are
 * kept as the digits the client sent, so a signature over `time` is checked against the same
 * text it was computed from.
 */
export function parseJsonObject(input: HttpInput): Record<string, string> {
  if (mediaType(input) !== 'application/json')
    throw new OAuthError('invalid_request', 'The request body must be application/json.')
  let parsed: unknown
  try {
    parsed = JSON.parse(input.body.toString('utf8'))
  } catch {
    throw new OAuthError('invalid_request', 'The request body is not valid JSON.')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new OAuthError('invalid_request', 'The request body must be a JSON object.')
  }
  const fields: Record<string, string> = Object.create(null)
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === 'string') fields[name] = value
    else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
      fields[name] = String(value)
    else if (value !== null)
      throw new OAuthError('invalid_request', `The field "${name}" must be a string or a whole number.`)
  }
  return fields
}
