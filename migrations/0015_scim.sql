-- SCIM 2.0 provisioning (issue 19 §2): what an identity provider writes that the directory did not hold.
-- `scim_user_name` is the provider's userName when it is not the person's email; `deprovisioned_at` marks
-- a person the provider deleted (they stay, suspended, with their history; SCIM no longer lists them).
ALTER TABLE people ADD COLUMN scim_user_name TEXT;
ALTER TABLE people ADD COLUMN external_id TEXT;
ALTER TABLE people ADD COLUMN employee_number TEXT;
ALTER TABLE people ADD COLUMN deprovisioned_at BIGINT;
-- 1 when the provider marked none of the person's emails primary (SCIM shows them as it was told).
ALTER TABLE people ADD COLUMN scim_no_primary BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX people_scim_user_name ON people (scim_user_name);
