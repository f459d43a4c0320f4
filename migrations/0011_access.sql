-- Resources the access policies protect (portals, databases, apps), registered by security. `tags` is a
-- comma list.
CREATE TABLE resources (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    name             TEXT NOT NULL,
    owner_department TEXT,
    sensitivity      TEXT NOT NULL,
    tags             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

-- The access policies (Cedar text), in versions: append-only, the newest in force.
CREATE TABLE access_policy_versions (
    version    BIGINT PRIMARY KEY,
    policies   TEXT NOT NULL,
    created_by TEXT REFERENCES people (id),
    created_at BIGINT NOT NULL
);
