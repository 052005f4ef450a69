-- Up Migration

-- Scheduled imports from a Google Sheet (Sheets API v4) or a published CSV URL. Each import has its own
-- source row (kind 'sheet' or 'csv'), so DynamoDB's per-source externalId claim is per import.
CREATE TABLE imports (
  id                uuid PRIMARY KEY,
  org_id            uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  source_id         uuid NOT NULL REFERENCES sources(id),
  name              text NOT NULL,
  kind              text NOT NULL CHECK (kind IN ('google_sheet', 'csv_url')),
  spreadsheet_id    text,
  sheet_range       text,
  url               text,
  campaign          text NOT NULL,
  column_map        jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- `rate(10 minutes)` or a five-field cron expression (UTC); NULL = run only on demand.
  schedule          text,
  -- `{"apiKey"}` or `{"serviceAccount": {client_email, private_key, ...}}`. Never returned by the API.
  credentials       jsonb,
  active            boolean NOT NULL DEFAULT true,
  next_run_at       timestamptz,
  last_run_at       timestamptz,
  -- One run at a time per import: the run holding the lease, until when (database time, so a crashed
  -- run's lease runs out however the product clock is set).
  lease_run_id      uuid,
  lease_expires_at  timestamptz,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  CHECK (kind <> 'google_sheet' OR spreadsheet_id IS NOT NULL),
  CHECK (kind <> 'csv_url' OR url IS NOT NULL)
);
CREATE INDEX imports_org_idx ON imports (org_id, created_at);
CREATE INDEX imports_due_idx ON imports (next_run_at) WHERE active AND next_run_at IS NOT NULL;

-- Every run of an import (scheduled or on demand) and every CSV upload (import_id NULL), with its counts
-- and the first bad rows (row number, field, reason).
CREATE TABLE import_runs (
  id           uuid PRIMARY KEY,
  org_id       uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  import_id    uuid REFERENCES imports(id) ON DELETE CASCADE,
  trigger      text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'upload')),
  status       text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
  -- False when the run stopped at its time budget; the next run continues with the rows left.
  complete     boolean NOT NULL DEFAULT false,
  rows_seen    integer NOT NULL DEFAULT 0,
  imported     integer NOT NULL DEFAULT 0,
  duplicates   integer NOT NULL DEFAULT 0,
  unchanged    integer NOT NULL DEFAULT 0,
  bad_rows     integer NOT NULL DEFAULT 0,
  bad          jsonb NOT NULL DEFAULT '[]'::jsonb,
  error        text,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz
);
CREATE INDEX import_runs_import_idx ON import_runs (import_id, started_at DESC, id DESC);
CREATE INDEX import_runs_org_idx ON import_runs (org_id, started_at DESC, id DESC);

-- The rows an import has taken, by identity (the id column, else a fingerprint of the normalised
-- contact), never by position: sorting the sheet or inserting/deleting rows changes no key. A run claims
-- new keys with INSERT ... ON CONFLICT DO NOTHING, so of two runs only one gets each key. A row stays
-- 'claimed' (with its normalised lead in `data`) until it is confirmed on the queue; a crash in between
-- leaves it 'claimed' and the next run queues it from `data` (DynamoDB's externalId claim prevents a
-- second lead). `data` is cleared once the row is settled.
CREATE TABLE import_rows (
  import_id   uuid NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
  row_key     text NOT NULL,
  status      text NOT NULL CHECK (status IN ('claimed', 'queued', 'duplicate')),
  run_id      uuid NOT NULL,
  row_number  integer,
  lead_id     uuid,
  data        jsonb,
  claimed_at  timestamptz NOT NULL,
  settled_at  timestamptz,
  PRIMARY KEY (import_id, row_key)
);
CREATE INDEX import_rows_claimed_idx ON import_rows (import_id) WHERE status = 'claimed';

-- A CSV upload's file, kept until every row is processed. The API answers within its time limit (API
-- Gateway stops waiting at 30 s) and the import runner finishes the rest, resuming after the last window
-- it committed: `next_row` records (header included) are processed and counted in the run; records up to
-- `attempted_to` may have reached the queue (a window in flight when a worker stopped).
CREATE TABLE import_uploads (
  run_id            uuid PRIMARY KEY REFERENCES import_runs(id) ON DELETE CASCADE,
  org_id            uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  campaign          text NOT NULL,
  column_map        jsonb NOT NULL DEFAULT '{}'::jsonb,
  file_name         text,
  content           bytea,
  next_row          integer NOT NULL DEFAULT 0,
  attempted_to      integer NOT NULL DEFAULT 0,
  attempts          integer NOT NULL DEFAULT 0,
  done              boolean NOT NULL DEFAULT false,
  lease_run_id      uuid,
  lease_expires_at  timestamptz,
  created_at        timestamptz NOT NULL
);
CREATE INDEX import_uploads_pending_idx ON import_uploads (org_id, created_at) WHERE NOT done;

-- Notifications for the people of an org: batched, one per import run ("15 new leads from <import>").
CREATE TABLE notifications (
  id          uuid PRIMARY KEY,
  org_id      uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  type        text NOT NULL,
  title       text NOT NULL,
  data        jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- What the notification is about (an import run id): at most one notification per subject.
  subject     text NOT NULL,
  created_at  timestamptz NOT NULL,
  read_at     timestamptz,
  UNIQUE (org_id, type, subject)
);
CREATE INDEX notifications_org_idx ON notifications (org_id, created_at DESC, id DESC);

-- Every run of a scheduled job (decay, backlog, imports) for an org, by schedule, by an operator or after
-- an event, with its counts in `result`. A scheduled invocation also writes one row without an org that
-- sums it up for operators (row-level security keeps it out of every org's view).
CREATE TABLE job_runs (
  id           uuid PRIMARY KEY,
  job          text NOT NULL,
  org_id       uuid REFERENCES orgs(id) ON DELETE CASCADE,
  trigger      text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'event')),
  status       text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
  result       jsonb NOT NULL DEFAULT '{}'::jsonb,
  error        text,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz
);
CREATE INDEX job_runs_started_idx ON job_runs (started_at DESC, id DESC);
CREATE INDEX job_runs_org_idx ON job_runs (org_id, started_at DESC, id DESC);

-- One run of a job per org at a time (EventBridge delivers at least once; an operator may press "run"
-- during a scheduled run). A lease, not a held lock: it needs no open transaction or pinned connection
-- through RDS Proxy, and a crashed run's lease simply runs out.
CREATE TABLE job_leases (
  job         text NOT NULL,
  org_id      uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  run_id      uuid NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (job, org_id)
);

-- SLA decay looks for assigned leads by how long they have been assigned.
CREATE INDEX leads_assigned_since_idx ON leads (status_changed_at, id) WHERE status = 'assigned';
-- Backlog retry walks each org's waiting leads oldest first.
CREATE INDEX leads_backlog_idx ON leads (org_id, received_at, id)
  WHERE status = 'unassigned' AND reason = 'no_eligible_recipient';

-- Down Migration
DROP INDEX IF EXISTS leads_backlog_idx;
DROP INDEX IF EXISTS leads_assigned_since_idx;
DROP TABLE job_leases, job_runs, notifications, import_uploads, import_rows, import_runs, imports CASCADE;
