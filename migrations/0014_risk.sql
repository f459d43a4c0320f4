-- QPQ risk: the settings security writes, in versions like the policies; a daily snapshot of every
-- person's score and every group's profile (written once per day, whichever instance claims the day);
-- and the tolerance breaches open now, so that each raises one alert when it starts.
CREATE TABLE risk_settings_versions (
    version    BIGINT PRIMARY KEY,
    settings   TEXT NOT NULL,
    created_by TEXT REFERENCES people (id),
    created_at BIGINT NOT NULL
);

CREATE TABLE risk_snapshot_days (
    day        TEXT PRIMARY KEY,
    claimed_at BIGINT NOT NULL
);

CREATE TABLE risk_person_snapshots (
    day        TEXT NOT NULL,
    person_id  TEXT NOT NULL REFERENCES people (id),
    department TEXT NOT NULL,
    score      DOUBLE PRECISION NOT NULL,
    level      TEXT NOT NULL,
    PRIMARY KEY (day, person_id)
);

-- `department` is '' for the company.
CREATE TABLE risk_group_snapshots (
    day           TEXT NOT NULL,
    department    TEXT NOT NULL,
    people        BIGINT NOT NULL,
    mean          DOUBLE PRECISION NOT NULL,
    low           BIGINT NOT NULL,
    medium        BIGINT NOT NULL,
    high          BIGINT NOT NULL,
    critical      BIGINT NOT NULL,
    high_or_above DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (day, department)
);

CREATE TABLE risk_breaches (
    department TEXT NOT NULL,
    breach     TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (department, breach)
);
