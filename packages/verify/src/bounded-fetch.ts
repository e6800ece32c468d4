import type { FetchLike } from './options.ts'

/**
 * The most the verifier reads of the issuer's metadata or key set. Both are read whole into
 * memory, and whatever answers at the issuer's address (a misconfigured proxy, a compromised
 * host) must not make the API hold an endless answer until the timeout. A hundred RSA-4096 keys
 * come to about 80 KiB; Gatehouse's own documents to a few.
 */
export const DOCUMENT_LIMIT = 256 * 1024

/** The answer was larger than `DOCUMENT_LIMIT`. */
export class DocumentTooLarge extends Error {
  constructor(url: string, limit: number) {
    super(`${url} answered more than ${limit} bytes`)
    this.name = 'DocumentTooLarge'
  }
}

/**
 * `fetchImpl`, with a 200 answer's body read here up to `limit` bytes: a larger one (declared or
 * sent) fails the fetch, and with it the discovery or key fetch, which answers 503. Other answers
 * pass as they are: their callers read nothing of them. (Core caps the client key sets it fetches
 * the same way; verify imports nothing from Gatehouse, so it has its own.)
 */
export function boundedFetch(fetchImpl: FetchLike, limit = DOCUMENT_LIMIT): FetchLike {
  return async (url, init) => {
    const response = await fetchImpl(url, init)
    if (response.status !== 200 || response.body === null) return response
    const tooLarge = () => new DocumentTooLarge(url, limit)
    if (Number(response.headers.get('content-length')) > limit) {
      await response.body.cancel()
      throw tooLarge()
    }
    const chunks: Uint8Array[] = []
    let size = 0
    for await (const chunk of response.body) {
      size += chunk.byteLength
      // Leaving the loop early cancels the stream, which closes the connection.
      if (size > limit) throw tooLarge()
      chunks.push(chunk)
    }
    const { status, statusText, headers } = response
    return new Response(Buffer.concat(chunks), { status, statusText, headers })
  }
}
