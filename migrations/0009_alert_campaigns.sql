-- The campaign an alert is about (new campaign, escalation, a real staffer impersonated, a complied
-- report that joined one), so the portal can link it.
ALTER TABLE security_alerts ADD COLUMN campaign_id TEXT;
