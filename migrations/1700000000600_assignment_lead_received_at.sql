-- Up Migration

-- "Leads of recipient X, newest first" (GET /api/leads?recipientId=…) walked the leads index newest
-- first and probed assignments for every lead until a page was full: with 1,000,000 leads over 50
-- recipients that is ~50 probes per row returned. Carrying the lead's received_at on its assignment
-- lets one partial index answer the filter in page order: the recipient's open assignments, newest
-- lead first, then the lead rows by primary key.
ALTER TABLE assignments ADD COLUMN lead_received_at timestamptz;

UPDATE assignments a SET lead_received_at = l.received_at FROM leads l WHERE l.id = a.lead_id;

-- Every insert path gets it, including ones that do not name the column: the value is the lead's own
-- received_at (immutable), looked up by primary key only when the insert did not supply it.
CREATE FUNCTION assignments_fill_lead_received_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.lead_received_at IS NULL THEN
    SELECT received_at INTO NEW.lead_received_at FROM leads WHERE id = NEW.lead_id;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER assignments_fill_lead_received_at
  BEFORE INSERT ON assignments
  FOR EACH ROW EXECUTE FUNCTION assignments_fill_lead_received_at();

ALTER TABLE assignments ALTER COLUMN lead_received_at SET NOT NULL;

CREATE INDEX assignments_recipient_open_received_idx
  ON assignments (recipient_id, lead_received_at DESC, lead_id DESC)
  WHERE ended_at IS NULL AND recipient_id IS NOT NULL;

-- Down Migration

DROP INDEX IF EXISTS assignments_recipient_open_received_idx;
DROP TRIGGER IF EXISTS assignments_fill_lead_received_at ON assignments;
DROP FUNCTION IF EXISTS assignments_fill_lead_received_at();
ALTER TABLE assignments DROP COLUMN IF EXISTS lead_received_at;
