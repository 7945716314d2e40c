-- Where each deployment's poll of the Genesys Cloud Audit API has got to (issue 11): one row per scope (task queue,
-- API base and OAuth client), so the heartbeat polls "since its cursor", not "since the last webhook". The position
-- only moves forward (GREATEST on update), so a slow poll finishing late never rewinds a faster one.

-- Up Migration
CREATE TABLE IF NOT EXISTS tollgate.genesys_audit_cursors (
  scope text PRIMARY KEY,
  position timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE IF EXISTS tollgate.genesys_audit_cursors;
