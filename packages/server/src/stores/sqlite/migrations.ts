/**
 * Versioned schema migrations, applied in order on open. Append, never edit: a database in
 * the field has run the old text.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE clients (
    client_id     TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    grants        TEXT NOT NULL,
    token_ttl     INTEGER,
    enabled       INTEGER NOT NULL,
    is_public     INTEGER NOT NULL,
    introspect    INTEGER NOT NULL,
    signature     INTEGER NOT NULL,
    secrets       TEXT NOT NULL,
    sealed_secret TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE apis (
    identifier TEXT PRIMARY KEY,
    scopes     TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    alg                TEXT NOT NULL,
    public_jwk         TEXT NOT NULL,
    sealed_private_key TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    activates_at       INTEGER NOT NULL,
    retires_at         INTEGER
  ) STRICT;
  CREATE TABLE changes (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    id   TEXT NOT NULL
  ) STRICT;
  CREATE TABLE used_once (
    key        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX used_once_expires ON used_once (expires_at);
  `,
]
