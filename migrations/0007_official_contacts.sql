-- A campaign whose indicators include the directory's own official contacts (a real staffer's number,
-- address or staff id, the company's domain) does not block checks on those until a security admin
-- confirms it covers them; `official_alerted_at` is when security was told it uses real staff's identity.
ALTER TABLE campaigns ADD COLUMN covers_official BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN official_alerted_at BIGINT;
