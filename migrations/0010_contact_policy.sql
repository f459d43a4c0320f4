-- The company's contact policy, in versions. Versions are append-only: nothing updates or deletes one.
-- `rules` is the rules' JSON form, `text` the company's own Markdown. The version in force at a moment is
-- the newest whose `effective_at` has come.
CREATE TABLE policy_versions (
    version      BIGINT PRIMARY KEY,
    effective_at BIGINT NOT NULL,
    rules        TEXT NOT NULL,
    text         TEXT NOT NULL,
    created_by   TEXT REFERENCES people (id),
    created_at   BIGINT NOT NULL
);

-- Who read which version, once each.
CREATE TABLE policy_acknowledgements (
    version         BIGINT NOT NULL REFERENCES policy_versions (version),
    person_id       TEXT NOT NULL REFERENCES people (id),
    acknowledged_at BIGINT NOT NULL,
    PRIMARY KEY (version, person_id)
);
CREATE INDEX policy_acknowledgements_person ON policy_acknowledgements (person_id);

-- Reminders sent for a version past its due date: one row per person told, and one with an empty
-- person for security's alert. The key is what keeps any of them from being sent twice, whichever
-- instance runs the job.
CREATE TABLE policy_reminders (
    version   BIGINT NOT NULL REFERENCES policy_versions (version),
    person_id TEXT NOT NULL,
    sent_at   BIGINT NOT NULL,
    PRIMARY KEY (version, person_id)
);

-- The policy version a check's latest assessment was judged by (NULL: the built-in default).
ALTER TABLE contact_checks ADD COLUMN policy_version BIGINT;
