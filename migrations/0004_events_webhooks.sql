-- The event log that SIEMs read (`GET /api/v1/events`, JSON lines) and webhooks deliver: appended in the
-- same transaction as the change it describes (an outbox), numbered by the `event` counter.
CREATE TABLE events (
    seq        BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('event', 0);

-- Where events are pushed. The signing secret is sealed (XChaCha20-Poly1305 under a key derived from the
-- server secret): it must be read back to sign, so it cannot be only hashed. `kinds` is a comma list or `*`.
CREATE TABLE webhooks (
    id            TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    kinds         TEXT NOT NULL,
    active        BIGINT NOT NULL DEFAULT 1,
    created_by    TEXT REFERENCES people (id),
    created_at    BIGINT NOT NULL
);

-- One row per event and webhook, written with the event; the delivery worker claims due rows, posts them,
-- and records each attempt's outcome. `status`: pending, delivered, gave_up.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_seq       BIGINT NOT NULL REFERENCES events (seq),
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_status     BIGINT,
    last_error      TEXT,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    created_at      BIGINT NOT NULL,
    UNIQUE (webhook_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, event_seq);
