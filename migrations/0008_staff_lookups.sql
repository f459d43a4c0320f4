-- Staff directory look-ups (searches and cards), logged per person and minute: how many, and the last
-- one. The count is also the look-up rate limit, so counting and logging are one statement.
CREATE TABLE staff_lookups (
    person_id  TEXT NOT NULL REFERENCES people (id),
    minute     BIGINT NOT NULL,
    lookups    BIGINT NOT NULL,
    last_query TEXT NOT NULL,
    PRIMARY KEY (person_id, minute)
);
