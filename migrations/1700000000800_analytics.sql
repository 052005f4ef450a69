-- Up Migration

-- `GET /api/analytics` counts an org's assignments made in a time window (per hour or day, per
-- recipient, per state); without this index each count scanned every assignment of the org.
CREATE INDEX assignments_org_assigned_idx ON assignments (org_id, assigned_at);

-- Down Migration

DROP INDEX assignments_org_assigned_idx;
