import { isUtf8 } from 'node:buffer'
import { OAuthError } from '@gatehouse/core'
import { type HttpInput, mediaType } from './types.ts'

const FORM = 'application/x-www-form-urlencoded'

/**
 * Reads an `application/x-www-form-urlencoded` body. A parameter given twice is refused here,
 * once for every form dialect (RFC 6749 §3.2: parameters MUST NOT be included more than once).
 * Malformed percent-encoding and invalid UTF-8 are refused rather than patched with U+FFFD.
 */
export function parseForm(input: HttpInput): Record<string, string> {
  if (mediaType(input) !== FORM) {
    throw new OAuthError('invalid_request', `The request body must be ${FORM}.`)
  }
  if (!isUtf8(input.body)) throw malformed()
  const text = input.body.toString('utf8')
  const form: Record<string, string> = Object.create(null)
  // A hand-written split: URLSearchParams' iterator costs several times more on this path.
  for (const pair of text.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const name = canonical(decode(eq === -1 ? pair : pair.slice(0, eq)))
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1))
    if (name in form)
      throw new OAuthError('invalid_request', `The parameter "${name}" is given more than once.`)
    form[name] = value
  }
  return form
}

/**
 * The first copy seen of a parameter name. Each request's names are fresh strings, and with
 * one parameter (`grant_type=client_credentials`) the store into `form` saw a new key on every
 * call: V8 kept putting off optimizing parseForm ("IC changed") and ran it at its baseline tier
 * for good, about 10,000 instructions a request (`npm run bench -- --instructions`). The same
 * string each time keeps the feedback stable. Bounded, so that made-up names cannot grow it.
 */
function canonical(name: string): string {
  const seen = NAMES.get(name)
  if (seen !== undefined) return seen
  if (NAMES.size < MAX_NAMES) NAMES.set(name, name)
  return name
}

const NAMES = new Map<string, string>()
const MAX_NAMES = 256

/** Empty values count as absent (RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted"). */
export function optional(form: Record<string, string>, name: string): string | undefined {
  const value = form[name]
  return value === undefined || value === '' ? undefined : value
}

function decode(part: string): string {
  if (!part.includes('%') && !part.includes('+')) return part
  try {
    return decodeURIComponent(part.replaceAll('+', ' '))
  } catch {
    throw malformed()
  }
}

function malformed(): OAuthError {
  return new OAuthError('invalid_request', 'The request body is not valid UTF-8 form data.')
}
