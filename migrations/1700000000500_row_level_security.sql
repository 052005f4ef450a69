-- Up Migration

-- Row-level security: the second wall between organizations (the first is the org filter every query
-- carries in code). Admin API requests run their transactions as the role `leadrouter_app` with the
-- caller's org in `app.org_id` (both set with set_config(..., is_local => true), transaction-scoped, so
-- RDS Proxy does not pin the connection beyond the transaction). A query that forgot its org filter then
-- sees and touches only the caller's rows. System work (the allocator, scheduled jobs, migrations) runs
-- as the owner, which RLS does not restrict; it derives the org from the data it processes.
-- Roles are cluster-wide while migrations run per database, so two databases of one cluster (parallel
-- test databases, or dev and test side by side) may create the role at the same moment: tolerate that.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'leadrouter_app') THEN
    CREATE ROLE leadrouter_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

-- The connecting user (owner of the tables) switches to the role per transaction, so it must be a member.
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'leadrouter_app', 'MEMBER') THEN
    EXECUTE format('GRANT leadrouter_app TO %I', current_user);
  END IF;
EXCEPTION WHEN unique_violation OR duplicate_object OR internal_error THEN
  -- A concurrent migration in another database granted it first ("tuple concurrently updated").
  NULL;
END
$$;
GRANT USAGE ON SCHEMA public TO leadrouter_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO leadrouter_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO leadrouter_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO leadrouter_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO leadrouter_app;

-- The org a transaction may see; unset (NULL) sees nothing.
CREATE OR REPLACE FUNCTION app_org_id() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('app.org_id', true), '')::uuid $$;

-- Every table with an org_id column gets the same policy, including tables of earlier migrations.
DO $$
DECLARE t text;
BEGIN
  FOR t IN
    SELECT c.table_name FROM information_schema.columns c
    JOIN information_schema.tables tb ON tb.table_name = c.table_name AND tb.table_schema = c.table_schema
    WHERE c.table_schema = 'public' AND c.column_name = 'org_id' AND tb.table_type = 'BASE TABLE'
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('DROP POLICY IF EXISTS org_isolation ON %I', t);
    EXECUTE format('CREATE POLICY org_isolation ON %I USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id())', t);
  END LOOP;
END
$$;

ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
CREATE POLICY org_isolation ON orgs USING (id = app_org_id()) WITH CHECK (id = app_org_id());

-- Counter tables are keyed by recipient or campaign: visible when their recipient is.
ALTER TABLE recipient_day_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY org_isolation ON recipient_day_counts
  USING (EXISTS (SELECT 1 FROM recipients r WHERE r.id = recipient_id));
ALTER TABLE rotation_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY org_isolation ON rotation_state
  USING (EXISTS (SELECT 1 FROM recipients r WHERE r.id = recipient_id));

-- Down Migration
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_policies WHERE schemaname = 'public' AND policyname = 'org_isolation'
  LOOP
    EXECUTE format('DROP POLICY org_isolation ON %I', t);
    EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t);
  END LOOP;
END
$$;
DROP FUNCTION IF EXISTS app_org_id();
