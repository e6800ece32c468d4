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
  `
  CREATE TABLE service_keys (
    client_id    TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    service_name TEXT NOT NULL,
    key_hash     TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (client_id, service_name)
  ) STRICT;
  CREATE TABLE children (
    child_key   TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    enabled     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX children_client ON children (client_id);
  CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL,
    client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    spent_at   INTEGER,
    revoked    INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
  CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id);
  CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
  `,
  `
  ALTER TABLE clients ADD COLUMN jwks TEXT;
  ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
  CREATE TABLE revoked_access_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX revoked_access_tokens_expires ON revoked_access_tokens (expires_at);
  `,
  `
  CREATE TABLE refresh_families (
    family_id   TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    client_id   TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    rotated_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked     INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX refresh_families_client ON refresh_families (client_id);
  CREATE INDEX refresh_families_expires ON refresh_families (expires_at);
  -- A token issued before families is a bare secret: each live one becomes a family of its
  -- own, named by the token's hash, so that it still rotates (into a token of the new form).
  INSERT INTO refresh_families
    SELECT hash, hash, client_id, subject, scopes, created_at, created_at, expires_at, 0
    FROM refresh_tokens
    WHERE spent_at IS NULL AND revoked = 0 AND expires_at > unixepoch();
  DROP TABLE refresh_tokens;
  `,
  `
  -- Signature replay keys lead with the time instead of the client (see signatureReplayKey):
  -- 'signature:' || client || ':' || time || ':' || SIG becomes
  -- 'signature:' || time || ':' || client || ':' || SIG. The time is the digits before the
  -- last colon of the middle part, which is all rtrim of digits leaves standing; keys still
  -- live keep their requests single-use across the upgrade.
  UPDATE used_once SET key = 'signature:' || parts.time || ':' || parts.client || ':' || parts.sig
  FROM (
    SELECT old,
      substr(middle, length(rtrim(middle, '0123456789')) + 1) AS time,
      substr(middle, 1, length(rtrim(middle, '0123456789')) - 1) AS client,
      sig
    FROM (
      SELECT key AS old, substr(key, 11, length(key) - 43) AS middle, substr(key, -32) AS sig
      FROM used_once WHERE key LIKE 'signature:%'
    )
  ) AS parts
  WHERE used_once.key = parts.old;
  `,
  `
  -- Expired rows are found by a sweep in rowid order (SqliteStore.purgeSometimes), not by an index
  -- that every rotation and replay write had to keep up to date.
  DROP INDEX used_once_expires;
  DROP INDEX refresh_families_expires;
  `,
  `
  -- The replay table is its key's B-tree alone: with a rowid it was two (the rows and the key's
  -- index), and every replay write paid for both. Its sweep walks the key (purgeSometimes).
  CREATE TABLE used_once_by_key (
    key        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  INSERT INTO used_once_by_key SELECT key, expires_at FROM used_once;
  DROP TABLE used_once;
  ALTER TABLE used_once_by_key RENAME TO used_once;
  `,
  `
  -- A rotation finds its family by id: WITHOUT ROWID, that is one B-tree to walk instead of the
  -- id's index and then the rows. The sweep walks the family id.
  CREATE TABLE refresh_families_by_id (
    family_id   TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    client_id   TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    rotated_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked     INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  INSERT INTO refresh_families_by_id SELECT * FROM refresh_families;
  DROP TABLE refresh_families;
  ALTER TABLE refresh_families_by_id RENAME TO refresh_families;
  CREATE INDEX refresh_families_client ON refresh_families (client_id);
  `,
  `
  -- Clients are listed a page at a time in the order they were created (listClients): without
  -- this index each page sorted the whole table, and a million clients took as many sorts.
  CREATE INDEX clients_created ON clients (created_at, client_id);
  `,
  `
  -- A client's refresh families by start, so that trimming its oldest (trimRefreshFamilies)
  -- steps over the newest it keeps instead of sorting all of them. It serves every lookup by
  -- client that the index it replaces did.
  DROP INDEX refresh_families_client;
  CREATE INDEX refresh_families_client ON refresh_families (client_id, created_at);
  `,
]
