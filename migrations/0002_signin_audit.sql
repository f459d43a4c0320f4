-- Sign-in (passwords, TOTP, recovery codes, passkeys, sessions), sign-in throttling, company settings and
-- the hash-chained audit log. Same portable conventions as 0001.

-- One row per person who can sign in. Secrets are never stored in clear: the password as an Argon2id PHC
-- string, the TOTP seed sealed (XChaCha20-Poly1305 under a key derived from the server secret, bound to
-- the person). `totp_last_step` is the last accepted time step: a code is never accepted twice.
CREATE TABLE credentials (
    person_id      TEXT PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    password_hash  TEXT,
    totp_sealed    TEXT,
    totp_pending   TEXT,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    updated_at     BIGINT NOT NULL
);

-- One-time recovery codes, as SHA-256 of the normalised code.
CREATE TABLE recovery_codes (
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (person_id, code_hash)
);

-- WebAuthn credentials: the public key and signature counter, as webauthn-rs serialises them.
CREATE TABLE passkeys (
    id           TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    passkey      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_person ON passkeys (person_id);

-- WebAuthn ceremony state between the challenge and the answer; short-lived, used once.
CREATE TABLE webauthn_ceremonies (
    id         TEXT PRIMARY KEY,
    person_id  TEXT REFERENCES people (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Server-side sessions. The cookie carries the token; only its SHA-256 is kept. `stage` is `second_factor`
-- after a correct password when a second factor is still due, `enrol` when TOTP enrolment is mandatory and
-- missing, `full` once signed in.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    stage        TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    client       TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_person ON sessions (person_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- Failed sign-ins per subject (`account:<person id>` or `address:<client address>`), for throttling.
CREATE TABLE signin_failures (
    subject      TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0
);

-- Company settings (`name` → text value).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The audit log: append-only, each row's `hash` = SHA-256(previous hash, the row's canonical form). The
-- head row holds the last sequence number and hash, so removing the newest rows is detected too.
CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor_id  TEXT,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    client    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
-- No secondary index: every check adds an entry, and browsing walks back from the newest.

CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
