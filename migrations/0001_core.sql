-- One migration set for SQLite and PostgreSQL: portable types only (TEXT, BIGINT), timestamps as
-- Unix milliseconds, flags as 0/1, ids as UUID text, lists as comma-separated text.

CREATE TABLE people (
    id           TEXT PRIMARY KEY,
    email        TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    department   TEXT NOT NULL DEFAULT '',
    title        TEXT NOT NULL DEFAULT '',
    location     TEXT NOT NULL DEFAULT '',
    remote       BIGINT NOT NULL DEFAULT 0,
    privileged   BIGINT NOT NULL DEFAULT 0,
    manager_id   TEXT REFERENCES people (id),
    roles        TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'active',
    photo_url    TEXT,
    staff_id     TEXT UNIQUE,
    team         TEXT,
    on_duty      BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX people_name_key ON people (name_key);

-- kind: email (further work address), phone, official_phone, official_address
CREATE TABLE person_contacts (
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (person_id, kind, value)
);
CREATE INDEX person_contacts_value ON person_contacts (value, kind);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('request_number', 1000);

CREATE TABLE support_requests (
    number       BIGINT PRIMARY KEY,
    requester_id TEXT NOT NULL REFERENCES people (id),
    summary      TEXT NOT NULL,
    category     TEXT,
    channels     TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    assignee_id  TEXT REFERENCES people (id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX support_requests_requester ON support_requests (requester_id, status);
CREATE INDEX support_requests_assignee ON support_requests (assignee_id, status);
CREATE INDEX support_requests_status ON support_requests (status, number);

CREATE TABLE outreach (
    id          TEXT PRIMARY KEY,
    staffer_id  TEXT NOT NULL REFERENCES people (id),
    employee_id TEXT NOT NULL REFERENCES people (id),
    reason      TEXT NOT NULL,
    channels    TEXT NOT NULL,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    status      TEXT NOT NULL,
    approver_id TEXT REFERENCES people (id),
    created_at  BIGINT NOT NULL,
    approved_at BIGINT
);
CREATE INDEX outreach_employee ON outreach (employee_id, status, ends_at);
CREATE INDEX outreach_staffer ON outreach (staffer_id, status, ends_at);
CREATE INDEX outreach_status ON outreach (status, ends_at);

CREATE TABLE contact_checks (
    id               TEXT PRIMARY KEY,
    employee_id      TEXT NOT NULL REFERENCES people (id),
    channel          TEXT NOT NULL,
    claimed_staff_id TEXT,
    claimed_name     TEXT,
    caller_number    TEXT,
    caller_address   TEXT,
    request_number   BIGINT,
    asked_for        TEXT NOT NULL,
    verdict          TEXT NOT NULL,
    reasons          TEXT NOT NULL,
    staffer_id       TEXT REFERENCES people (id),
    failures         BIGINT NOT NULL DEFAULT 0,
    last_failed      BIGINT NOT NULL DEFAULT 0,
    locked           BIGINT NOT NULL DEFAULT 0,
    passed           BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX contact_checks_employee ON contact_checks (employee_id, created_at);

CREATE TABLE security_alerts (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    severity   TEXT NOT NULL,
    person_id  TEXT REFERENCES people (id),
    check_id   TEXT REFERENCES contact_checks (id),
    message    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX security_alerts_created ON security_alerts (created_at);

-- Fixed-window counters shared by every server instance.
CREATE TABLE rate_limits (
    bucket       TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL
);
