-- Reports of suspicious contacts, their normalised indicators, and the clusters (campaigns) they form.
-- Same portable conventions as 0001.

-- A cluster of related reports. It is a campaign once it passes the thresholds: `status` is `cluster`
-- until then, then `active`, `contained` or `closed`; `merged` when merged into another (`merged_into`).
CREATE TABLE campaigns (
    id               TEXT PRIMARY KEY,
    status           TEXT NOT NULL,
    severity         TEXT NOT NULL,
    merged_into      TEXT REFERENCES campaigns (id),
    report_count     BIGINT NOT NULL DEFAULT 0,
    people_count     BIGINT NOT NULL DEFAULT 0,
    department_count BIGINT NOT NULL DEFAULT 0,
    complied_count   BIGINT NOT NULL DEFAULT 0,
    privileged_count BIGINT NOT NULL DEFAULT 0,
    first_seen       BIGINT NOT NULL,
    last_seen        BIGINT NOT NULL,
    warning          TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    promoted_at      BIGINT
);
CREATE INDEX campaigns_status ON campaigns (status, last_seen);

CREATE TABLE reports (
    id               TEXT PRIMARY KEY,
    reporter_id      TEXT NOT NULL REFERENCES people (id),
    department       TEXT NOT NULL,
    channel          TEXT NOT NULL,
    occurred_at      BIGINT NOT NULL,
    received_at      BIGINT NOT NULL,
    caller_number    TEXT,
    caller_address   TEXT,
    caller_handle    TEXT,
    claimed_name     TEXT,
    claimed_staff_id TEXT,
    claimed_team     TEXT,
    asked_for        TEXT NOT NULL DEFAULT '',
    complied         BIGINT NOT NULL DEFAULT 0,
    transcript       TEXT,
    email_subject    TEXT,
    original_email   TEXT,
    check_id         TEXT REFERENCES contact_checks (id),
    cluster_id       TEXT NOT NULL REFERENCES campaigns (id)
);
CREATE INDEX reports_cluster ON reports (cluster_id, occurred_at);
CREATE INDEX reports_reporter ON reports (reporter_id, received_at);

-- Each report's normalised indicators; the index finds the newest report with a value in the window.
-- A text fingerprint is stored as one row per sampled hash (kind `text`).
CREATE TABLE report_indicators (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    value     TEXT NOT NULL,
    note      TEXT,
    seen_at   BIGINT NOT NULL,
    PRIMARY KEY (report_id, kind, value)
);
CREATE INDEX report_indicators_lookup ON report_indicators (kind, value, seen_at);

-- Who and which departments a cluster reached (distinct), for its counts.
CREATE TABLE campaign_people (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    person_id   TEXT NOT NULL REFERENCES people (id),
    PRIMARY KEY (campaign_id, person_id)
);
CREATE TABLE campaign_departments (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    department  TEXT NOT NULL,
    PRIMARY KEY (campaign_id, department)
);

-- The indicators of campaigns (not of plain clusters) that people can read: what checks are matched
-- against and what exports carry.
CREATE TABLE campaign_indicators (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    note        TEXT,
    PRIMARY KEY (campaign_id, kind, value)
);
CREATE INDEX campaign_indicators_value ON campaign_indicators (value, kind);

-- Report intake takes this row first, so correlations (on any instance) run one at a time.
INSERT INTO counters (name, value) VALUES ('correlation', 0);
