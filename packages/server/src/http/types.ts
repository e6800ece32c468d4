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
