-- The analyzer's reading of a report's transcript (JSON: score, verdict, stages), stored when the report is
-- filed so that listing reports does not analyse each one again. NULL for reports filed before this, and
-- for reports without a transcript. Same portable conventions as 0001.
ALTER TABLE reports ADD COLUMN analysis TEXT;
