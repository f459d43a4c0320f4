-- Access decisions read the directory from memory. The generation below is raised in the same
-- transaction as every write that changes what the access policies see (people, their factors and
-- acknowledgements, resources, policy versions, service tokens), so every instance knows when to read
-- it afresh.
CREATE TABLE directory_generation (
    id         INTEGER PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO directory_generation (id, generation) VALUES (1, 0);

-- Allows on resources other than `high` ones are counted, not audited one by one: per day (UTC),
-- resource and action, added to by every instance.
CREATE TABLE access_counts (
    day         TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    action      TEXT NOT NULL,
    allows      BIGINT NOT NULL,
    PRIMARY KEY (day, resource_id, action)
);
