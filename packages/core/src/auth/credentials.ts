/**
 * How a request says who the client is. Dialects fill this in from their own wire shape;
 * core decides whether it holds.
 */
export type ClientCredentials =
  | { method: 'client_secret_basic' | 'client_secret_post'; clientId: string; secret: string }
  /** A public client: an id and no proof (the service-key grant of seed 000). */
  | { method: 'none'; clientId: string }
  /** RFC 7523 private_key_jwt; the id is the assertion's subject or the client_id sent with it. */
  | { method: 'private_key_jwt'; clientId: string; assertion: string }
  /** Seed 001: hex MD5 of clientId + time + secret; `time` exactly as the client sent it. */
  | { method: 'signature'; clientId: string; time: string; signature: string }

export type AuthMethod = ClientCredentials['method']
