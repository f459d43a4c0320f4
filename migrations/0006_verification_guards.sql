-- Wrong challenge codes counted across checks: per employee and per request or outreach (the scope,
-- `employee:<id>`, `request:<key>` or `outreach:<id>`). A guard row is taken first by every count, so
-- counts on any number of instances run one at a time for one scope; `locked_until` (Unix ms) is when
-- verification for the scope opens again. Same portable conventions as 0001.
CREATE TABLE verification_guards (
    scope        TEXT PRIMARY KEY,
    employee_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    locked_until BIGINT NOT NULL DEFAULT 0,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX verification_guards_employee ON verification_guards (employee_id, locked_until);

-- One row per wrong code in the counting window; older rows are removed as new ones are counted.
CREATE TABLE verification_failures (
    scope    TEXT NOT NULL,
    at       BIGINT NOT NULL,
    check_id TEXT NOT NULL
);
CREATE INDEX verification_failures_scope ON verification_failures (scope, at);
