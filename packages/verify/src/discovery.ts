import { DocumentTooLarge } from './bounded-fetch.ts'
import type { FetchLike } from './options.ts'

/** The metadata could not be read: the caller answers 503 and tries again at the next request. */
export class DiscoveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DiscoveryError'
  }
}

/**
 * The metadata documents to try for `issuer`, in order: RFC 8414 §3.1 inserts the well-known
 * segment between the host and the issuer's path (after removing a terminating `/`); OpenID
 * Connect Discovery 1.0 §4 appends it. For an issuer without a path both sit at the root.
 */
export function metadataUrls(issuer: string): URL[] {
  const url = new URL(issuer)
  const path = url.pathname.replace(/\/$/, '')
  return [
    new URL(`${url.origin}/.well-known/oauth-authorization-server${path}`),
    new URL(`${url.origin}${path}/.well-known/openid-configuration`),
  ]
}

/**
 * Finds the issuer's `jwks_uri`. A metadata document that answers 404 moves on to the next; if
 * both do, the issuer publishes no metadata and Gatehouse's own path `${issuer}/.well-known/jwks.json`
 * is used. Anything else (no answer, a 5xx, a document for another issuer) is a `DiscoveryError`,
 * never a guess: the keys that judge tokens come only from the issuer's own metadata.
 */
export async function discoverJwksUri(issuer: string, fetchImpl: FetchLike, timeoutMs: number): Promise<URL> {
  for (const url of metadataUrls(issuer)) {
    let response: Response
    try {
      response = await fetchImpl(url.href, {
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (cause) {
      const what = cause instanceof DocumentTooLarge ? 'too large' : 'no answer'
      throw new DiscoveryError(`issuer metadata ${url.href}: ${what}`, { cause })
    }
    if (response.status === 404) {
      await response.body?.cancel()
      continue
    }
    if (response.status !== 200) {
      await response.body?.cancel()
      throw new DiscoveryError(`issuer metadata ${url.href}: HTTP ${response.status}`)
    }
    let metadata: { issuer?: unknown; jwks_uri?: unknown }
    try {
      metadata = (await response.json()) as typeof metadata
    } catch (cause) {
      throw new DiscoveryError(`issuer metadata ${url.href}: not JSON`, { cause })
    }
    // RFC 8414 §3.3: the issuer in the document MUST be identical to the one it was fetched for.
    if (metadata?.issuer !== issuer) {
      throw new DiscoveryError(
        `issuer metadata ${url.href}: names issuer ${JSON.stringify(metadata?.issuer)}, not ${JSON.stringify(issuer)}`,
      )
    }
    return jwksUriOf(metadata.jwks_uri, issuer, url)
  }
  return new URL(`${issuer.replace(/\/$/, '')}/.well-known/jwks.json`)
}

function jwksUriOf(value: unknown, issuer: string, source: URL): URL {
  if (typeof value !== 'string' || !URL.canParse(value)) {
    throw new DiscoveryError(`issuer metadata ${source.href}: no valid jwks_uri`)
  }
  const uri = new URL(value)
  // An https issuer's keys must not come over plain http, where anyone on the path could swap them.
  const allowed = new URL(issuer).protocol === 'https:' ? ['https:'] : ['https:', 'http:']
  if (!allowed.includes(uri.protocol)) {
    throw new DiscoveryError(
      `issuer metadata ${source.href}: jwks_uri ${value} is not ${allowed.join(' or ')}`,
    )
  }
  return uri
}
