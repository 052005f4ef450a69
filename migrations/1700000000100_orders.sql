-- Up Migration

-- Per-org stock settings. The row doubles as the org's STOCK LOCK: every transaction that fills,
-- fulfills or deletes an order, or changes state caps, takes it `FOR UPDATE` first (docs/allocation.md,
-- "Orders"). A row of our own rather than `orgs FOR UPDATE`: inserting any lead, event or assignment
-- takes `FOR KEY SHARE` on its org row (the foreign key), which `FOR UPDATE` on orgs would block — and a
-- transaction holding a lead lock while inserting an event would then wait for a fill that waits for
-- that lead: a deadlock. Created on demand (`INSERT … ON CONFLICT DO NOTHING`), so orgs created by any
-- path get one.
CREATE TABLE stock_settings (
  org_id             uuid PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  -- The most leads of one state a single order may receive, for states without their own cap.
  default_state_cap  integer NOT NULL DEFAULT 10 CHECK (default_state_cap >= 0),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE state_caps (
  org_id  uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  state   text NOT NULL,
  cap     integer NOT NULL CHECK (cap >= 0),
  PRIMARY KEY (org_id, state)
);

CREATE TABLE orders (
  id                uuid PRIMARY KEY,
  org_id            uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  -- Per-org order number (#1, #2, …), assigned under the stock lock: it is the order in which orders
  -- were created and therefore the order in which open orders are filled ("earliest order first").
  number            integer NOT NULL,
  customer_name     text NOT NULL,
  customer_email    text NOT NULL,
  requested_states  text[] NOT NULL CHECK (cardinality(requested_states) >= 1),
  -- NULL = no overall limit (each requested state up to its cap).
  quantity          integer CHECK (quantity IS NULL OR quantity >= 1),
  -- open: demand left, filled from new stock; filled: no demand left; fulfilled: closed by hand;
  -- deleted: its leads went back to stock.
  status            text NOT NULL CHECK (status IN ('open', 'filled', 'fulfilled', 'deleted')),
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  filled_at         timestamptz,
  fulfilled_at      timestamptz,
  deleted_at        timestamptz,
  UNIQUE (org_id, number)
);
CREATE INDEX orders_org_status_idx ON orders (org_id, status, number);

-- An order's leads (assignment rows with reason order_fill).
CREATE INDEX assignments_order_idx ON assignments (order_id, lead_id) WHERE order_id IS NOT NULL;
-- Stock, oldest first per state: what an order takes.
CREATE INDEX leads_stock_idx ON leads (org_id, state, received_at, id)
  WHERE status IN ('unassigned', 'returned') AND erased_at IS NULL;

CREATE TABLE automation_rules (
  id             uuid PRIMARY KEY,
  org_id         uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name           text NOT NULL,
  trigger_type   text NOT NULL CHECK (trigger_type IN ('schedule', 'event')),
  -- Schedule rules: a croner pattern (5 or 6 fields) or an ISO date-time (runs once), in `timezone`.
  cron           text,
  timezone       text,
  next_run_at    timestamptz,
  -- Event rules: the event type, and the id below which every event has been considered.
  event_type     text,
  event_cursor   bigint NOT NULL DEFAULT 0,
  command        text NOT NULL,
  params         jsonb NOT NULL DEFAULT '{}'::jsonb,
  once           boolean NOT NULL DEFAULT false,
  enabled        boolean NOT NULL DEFAULT true,
  run_count      integer NOT NULL DEFAULT 0,
  last_run_at    timestamptz,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  CHECK ((trigger_type = 'schedule' AND cron IS NOT NULL) OR (trigger_type = 'event' AND event_type IS NOT NULL))
);
CREATE INDEX automation_rules_org_idx ON automation_rules (org_id, created_at);
CREATE INDEX automation_rules_due_idx ON automation_rules (next_run_at)
  WHERE enabled AND trigger_type = 'schedule';
CREATE INDEX automation_rules_event_idx ON automation_rules (org_id, event_type)
  WHERE enabled AND trigger_type = 'event';

CREATE TABLE automation_runs (
  id           bigserial PRIMARY KEY,
  org_id       uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  rule_id      uuid NOT NULL REFERENCES automation_rules(id) ON DELETE CASCADE,
  trigger      text NOT NULL CHECK (trigger IN ('schedule', 'event', 'manual')),
  event_id     bigint,
  command      text NOT NULL,
  params       jsonb NOT NULL,
  status       text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  result       jsonb,
  error        jsonb,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz
);
CREATE INDEX automation_runs_rule_idx ON automation_runs (rule_id, id DESC);
-- One event triggers one rule at most once, whoever (which job run) sees it.
CREATE UNIQUE INDEX automation_runs_rule_event_idx ON automation_runs (rule_id, event_id)
  WHERE event_id IS NOT NULL;

-- Down Migration
DROP TABLE automation_runs, automation_rules, orders, state_caps, stock_settings;
DROP INDEX IF EXISTS leads_stock_idx;
DROP INDEX IF EXISTS assignments_order_idx;
