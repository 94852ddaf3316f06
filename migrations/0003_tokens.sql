-- Tokens for the HTTP API and the web console, for the whole home. Only a SHA-256 of each
-- token is kept (tokens are 256 random bits, so a plain hash suffices); the token itself is
-- shown once, when it is made.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'viewer')),
    name       TEXT NOT NULL,
    sha256     TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
