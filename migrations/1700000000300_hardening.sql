-- Up Migration

-- Per-source rate limit of the lead webhook (issue 9). NULL = the product default (100 requests/s,
-- burst 200). PostgreSQL is the source of truth shown by the API; the ingest path reads the copy in
-- DynamoDB (`ratecfg#<source id>` in the keys table), because it never touches PostgreSQL.
ALTER TABLE sources
  ADD COLUMN rate_limit_per_second integer CHECK (rate_limit_per_second BETWEEN 1 AND 10000),
  ADD COLUMN rate_limit_burst integer CHECK (rate_limit_burst BETWEEN 1 AND 20000),
  ADD CONSTRAINT sources_rate_limit_pair CHECK (
    (rate_limit_per_second IS NULL) = (rate_limit_burst IS NULL)
    AND (rate_limit_burst IS NULL OR rate_limit_burst >= rate_limit_per_second)
  );

-- Erasure requests carried out, kept without any personal data: the proof of when a person's data was
-- erased (the lead row keeps only ids, status and state afterwards).
CREATE TABLE lead_erasures (
  lead_id    uuid PRIMARY KEY REFERENCES leads(id) ON DELETE CASCADE,
  org_id     uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  erased_at  timestamptz NOT NULL,
  -- How many events of the lead had their data reduced to ids.
  events_scrubbed integer NOT NULL
);
CREATE INDEX lead_erasures_org_idx ON lead_erasures (org_id, erased_at DESC);

-- Down Migration
DROP TABLE lead_erasures;
ALTER TABLE sources
  DROP CONSTRAINT sources_rate_limit_pair,
  DROP COLUMN rate_limit_burst,
  DROP COLUMN rate_limit_per_second;
