-- QPQ drills. A drill's persona (address, number, staff id) is kept normalised beside its scenario, so a
-- report or a check naming it is recognised by exact look-ups.
CREATE TABLE drills (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    scenario_id      TEXT,
    scenario         TEXT NOT NULL,
    channel          TEXT NOT NULL,
    targets          TEXT NOT NULL,
    window_hours     BIGINT NOT NULL,
    status           TEXT NOT NULL,
    sender_address   TEXT,
    caller_number    TEXT,
    claimed_staff_id TEXT,
    created_by       TEXT REFERENCES people (id),
    created_at       BIGINT NOT NULL,
    launched_at      BIGINT,
    stopped_at       BIGINT,
    ends_at          BIGINT
);
CREATE INDEX drills_sender ON drills (sender_address);
CREATE INDEX drills_number ON drills (caller_number);
CREATE INDEX drills_staff_id ON drills (claimed_staff_id);

-- One row per drill and person: the message's sending state and what the person did. The link token is
-- never stored, only its SHA-256; nothing typed on the landing page is stored, only how many characters.
-- `send_status`: queued, sending (claimed by a sender until `lease_until`), sent, failed, cancelled.
CREATE TABLE drill_targets (
    id                TEXT PRIMARY KEY,
    drill_id          TEXT NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
    person_id         TEXT NOT NULL REFERENCES people (id),
    email             TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    department        TEXT NOT NULL,
    phone             TEXT,
    token_hash        TEXT NOT NULL UNIQUE,
    position          BIGINT NOT NULL,
    send_at           BIGINT,
    send_status       TEXT NOT NULL,
    attempts          BIGINT NOT NULL DEFAULT 0,
    lease_until       BIGINT NOT NULL DEFAULT 0,
    last_reply        TEXT,
    sent_at           BIGINT,
    opened_at         BIGINT,
    clicked_at        BIGINT,
    submitted_at      BIGINT,
    typed_chars       BIGINT,
    reported_at       BIGINT,
    reported_complied BIGINT NOT NULL DEFAULT 0,
    report_id         TEXT,
    verified_at       BIGINT,
    lesson_read_at    BIGINT,
    UNIQUE (drill_id, person_id)
);
CREATE INDEX drill_targets_due ON drill_targets (send_status, send_at);
CREATE INDEX drill_targets_person ON drill_targets (person_id, drill_id);
