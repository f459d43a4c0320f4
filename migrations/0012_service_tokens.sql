-- Machine clients (a reverse proxy, an internal app) and their tokens: not people, they sign in nowhere
-- and reach only what their scopes name. The token is stored as SHA-256, like a person's.
CREATE TABLE service_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
