-- Up Migration

-- Tenants. Every other row carries org_id; every query filters on it (and issue 9 adds RLS as a second wall).
CREATE TABLE orgs (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Admin bearer tokens, stored only as SHA-256 hashes (a token is 256 random bits, so a fast hash is enough).
CREATE TABLE admin_tokens (
  id          uuid PRIMARY KEY,
  org_id      uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  token_hash  text NOT NULL UNIQUE,
  label       text NOT NULL DEFAULT 'admin',
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

-- Intake channels. The secret hash is mirrored into DynamoDB so the ingest path never reads PostgreSQL.
CREATE TABLE sources (
  id                    uuid PRIMARY KEY,
  org_id                uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name                  text NOT NULL,
  kind                  text NOT NULL DEFAULT 'webhook' CHECK (kind IN ('webhook', 'sheet', 'csv')),
  secret_hash           text UNIQUE,
  previous_secret_hash  text,
  previous_expires_at   timestamptz,
  field_map             jsonb NOT NULL DEFAULT '{}'::jsonb,
  default_campaign      text,
  created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sources_org_idx ON sources (org_id);

CREATE TABLE recipients (
  id               uuid PRIMARY KEY,
  org_id           uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name             text NOT NULL,
  email            text,
  states           text[] NOT NULL DEFAULT '{}',
  daily_cap        integer CHECK (daily_cap IS NULL OR daily_cap >= 0),
  quota            integer CHECK (quota IS NULL OR quota >= 0),
  -- Allowance left until the next quota reset; kept equal to quota minus this epoch's counted assignments.
  quota_remaining  integer,
  quota_epoch      integer NOT NULL DEFAULT 0,
  weight           integer NOT NULL DEFAULT 1 CHECK (weight >= 1),
  timezone         text NOT NULL DEFAULT 'America/New_York',
  working_hours    jsonb,
  active           boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT quota_remaining_in_range CHECK (quota_remaining IS NULL OR quota_remaining >= 0)
);
CREATE INDEX recipients_org_idx ON recipients (org_id, created_at);

-- Assignments counted against a recipient's daily cap, per local day in the recipient's timezone.
-- Invariant: assigned = count(assignments of that recipient and local_day that still count).
CREATE TABLE recipient_day_counts (
  recipient_id  uuid NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
  local_day     date NOT NULL,
  assigned      integer NOT NULL DEFAULT 0 CHECK (assigned >= 0),
  PRIMARY KEY (recipient_id, local_day)
);

CREATE TABLE campaigns (
  id                    uuid PRIMARY KEY,
  org_id                uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  key                   text NOT NULL,
  name                  text NOT NULL,
  recipients_per_lead   integer NOT NULL DEFAULT 1 CHECK (recipients_per_lead >= 1),
  static_recipient_ids  uuid[] NOT NULL DEFAULT '{}',
  -- NULL = every active recipient of the org.
  pool_recipient_ids    uuid[],
  state_routing         text NOT NULL DEFAULT 'prefer' CHECK (state_routing IN ('prefer', 'require', 'ignore')),
  static_optional       boolean NOT NULL DEFAULT false,
  mode                  text NOT NULL DEFAULT 'push' CHECK (mode IN ('push', 'stock')),
  sla_minutes           integer CHECK (sla_minutes IS NULL OR sla_minutes > 0),
  max_reassignments     integer NOT NULL DEFAULT 3 CHECK (max_reassignments >= 0),
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, key)
);

-- Fair-rotation state of each pool member in each campaign (see docs/allocation.md).
CREATE TABLE rotation_state (
  campaign_id     uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  recipient_id    uuid NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
  picks           bigint NOT NULL DEFAULT 0,
  last_picked_at  timestamptz,
  PRIMARY KEY (campaign_id, recipient_id)
);

CREATE TABLE leads (
  id                 uuid PRIMARY KEY,
  org_id             uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  source_id          uuid,
  phone              text,
  email              text,
  first_name         text,
  last_name          text,
  state              text,
  zip                text,
  campaign           text,
  external_id        text,
  attributes         jsonb NOT NULL DEFAULT '{}'::jsonb,
  status             text NOT NULL CHECK (status IN ('queued', 'assigned', 'unassigned', 'sold', 'contacted',
                       'qualified', 'won', 'lost', 'returned', 'stale')),
  reason             text,
  trace              jsonb,
  reassignment_count integer NOT NULL DEFAULT 0,
  received_at        timestamptz NOT NULL,
  status_changed_at  timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  erased_at          timestamptz
);
-- Keyset paging of the lead list, newest first, with and without filters.
CREATE INDEX leads_org_received_idx ON leads (org_id, received_at DESC, id DESC);
CREATE INDEX leads_org_status_idx ON leads (org_id, status, received_at DESC, id DESC);
CREATE INDEX leads_org_state_idx ON leads (org_id, state, received_at DESC, id DESC);
CREATE INDEX leads_org_campaign_idx ON leads (org_id, campaign, received_at DESC, id DESC);
-- Returning-contact lookups.
CREATE INDEX leads_org_phone_idx ON leads (org_id, phone, received_at DESC);

CREATE TABLE assignments (
  id            bigserial PRIMARY KEY,
  org_id        uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  lead_id       uuid NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
  recipient_id  uuid REFERENCES recipients(id) ON DELETE SET NULL,
  order_id      uuid,
  reason        text NOT NULL,
  assigned_at   timestamptz NOT NULL,
  -- The recipient's local day and quota epoch this assignment was counted in, so that returning
  -- capacity credits exactly the counter it debited.
  local_day     date,
  quota_epoch   integer,
  counted       boolean NOT NULL DEFAULT true,
  ended_at      timestamptz,
  end_reason    text
);
CREATE INDEX assignments_lead_idx ON assignments (lead_id, assigned_at);
CREATE INDEX assignments_recipient_idx ON assignments (recipient_id, assigned_at DESC);
CREATE INDEX assignments_org_idx ON assignments (org_id, id DESC);
-- A recipient holds a lead at most once at a time.
CREATE UNIQUE INDEX assignments_open_unique ON assignments (lead_id, recipient_id)
  WHERE ended_at IS NULL AND recipient_id IS NOT NULL;

-- Append-only event log and outbox: published_at stays NULL until the event was pushed to the org's
-- WebSocket connections, so a crash between commit and push delays an event but never loses it.
CREATE TABLE events (
  id            bigserial PRIMARY KEY,
  org_id        uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  type          text NOT NULL,
  lead_id       uuid,
  at            timestamptz NOT NULL,
  data          jsonb NOT NULL DEFAULT '{}'::jsonb,
  published_at  timestamptz
);
CREATE INDEX events_org_idx ON events (org_id, id);
CREATE INDEX events_lead_idx ON events (lead_id, id) WHERE lead_id IS NOT NULL;
CREATE INDEX events_unpublished_idx ON events (id) WHERE published_at IS NULL;

-- Quota-reset webhook events applied, per org (the DynamoDB claim answers concurrent copies fast; this
-- unique key makes the reset exactly-once even if a claim were lost).
CREATE TABLE quota_resets (
  org_id      uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  event_id    text NOT NULL,
  recipients  integer NOT NULL,
  at          timestamptz NOT NULL,
  PRIMARY KEY (org_id, event_id)
);

-- Down Migration
DROP TABLE quota_resets, events, assignments, leads, rotation_state, campaigns, recipient_day_counts,
  recipients, sources, admin_tokens, orgs CASCADE;
