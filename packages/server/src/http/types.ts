import { OAuthError } from '@gatehouse/core'

/** The request as the listener hands it to a dialect: no framework types past this point. */
export interface HttpInput {
  method: string
  /** Lower-cased header names. */
  headers: Readonly<Record<string, string | string[] | undefined>>
  body: Buffer
  remoteAddress: string
}

export interface HttpReply {
  status: number
  headers?: Record<string, string>
  /** The answer's JSON document, as text. */
  json: string
}

export function header(input: HttpInput, name: string): string | undefined {
  const value = input.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` → `application/json`. */
export function mediaType(input: HttpInput): string | undefined {
  const value = header(input, 'content-type')
  // The usual header is the bare type, as clients send it.
  if (value === undefined || /^[a-z/.+-]+$/.test(value)) return value
  return value.split(';')[0]?.trim().toLowerCase()
}

/**
 * Refuses a request that repeats Authorization or Content-Type. Node keeps the first of each
 * and drops the rest, so a proxy that reads the last would see other credentials, or another
 * body format, than the server acts on.
 */
export function refuseRepeatedHeaders(rawHeaders: readonly string[]): void {
  let authorization = 0
  let contentType = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    // The length first: most names are neither, and lower-casing each would cost a string.
    if (name.length === 13 && name.toLowerCase() === 'authorization') authorization++
    else if (name.length === 12 && name.toLowerCase() === 'content-type') contentType++
  }
  if (authorization > 1 || contentType > 1)
    throw new OAuthError(
      'invalid_request',
      `Send the ${authorization > 1 ? 'Authorization' : 'Content-Type'} header once.`,
    )
}
