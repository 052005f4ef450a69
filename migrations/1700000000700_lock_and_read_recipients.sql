-- Up Migration

-- The allocator's candidate lock and candidate read in one round trip. They must stay two statements
-- (under READ COMMITTED a statement that waited for a row lock still reads the other tables — day
-- counters, rotation rows — from the snapshot it started with, so two allocations that queued on the
-- same recipients would decide from the same counts). Inside a VOLATILE PL/pgSQL function every
-- statement takes a new snapshot, so the read after the lock sees what the previous lock holders
-- committed — while the client waits one round trip instead of two, with the locks held.
--
-- Locks: the recipients named by (org, id) pairs, plus every active recipient of the orgs in
-- p_all_active_org_ids, in the global order (org id, then recipient id, ascending: docs/allocation.md).
-- Returns one row per locked recipient and rotation row in p_campaign_ids (nulls when it has none),
-- with its cap counter for its own local day at p_now. SECURITY INVOKER: row-level security applies
-- as for the statements it replaces.
CREATE FUNCTION lock_and_read_recipients(
  p_org_ids uuid[],
  p_ids uuid[],
  p_all_active_org_ids uuid[],
  p_now timestamptz,
  p_campaign_ids uuid[]
) RETURNS TABLE (
  id uuid,
  org_id uuid,
  name text,
  active boolean,
  states text[],
  daily_cap integer,
  quota_remaining integer,
  quota_epoch integer,
  weight integer,
  timezone text,
  working_hours jsonb,
  local_day text,
  assigned_today integer,
  campaign_id uuid,
  picks bigint,
  last_picked_at timestamptz
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  locked uuid[];
BEGIN
  locked := ARRAY(
    SELECT r.id FROM recipients r
    WHERE (r.org_id, r.id) IN (SELECT * FROM unnest(p_org_ids, p_ids))
       OR (r.org_id = ANY(p_all_active_org_ids) AND r.active)
    ORDER BY r.org_id, r.id
    FOR UPDATE OF r);
  RETURN QUERY
    SELECT r.id, r.org_id, r.name, r.active, r.states, r.daily_cap, r.quota_remaining, r.quota_epoch,
           r.weight, r.timezone, r.working_hours,
           ((p_now AT TIME ZONE r.timezone)::date)::text,
           COALESCE(d.assigned, 0),
           rs.campaign_id, rs.picks, rs.last_picked_at
    FROM recipients r
    LEFT JOIN recipient_day_counts d
      ON d.recipient_id = r.id AND d.local_day = (p_now AT TIME ZONE r.timezone)::date
    LEFT JOIN rotation_state rs ON rs.recipient_id = r.id AND rs.campaign_id = ANY(p_campaign_ids)
    WHERE r.id = ANY(locked)
    ORDER BY r.id;
END
$$;

-- Down Migration

DROP FUNCTION IF EXISTS lock_and_read_recipients(uuid[], uuid[], uuid[], timestamptz, uuid[]);
