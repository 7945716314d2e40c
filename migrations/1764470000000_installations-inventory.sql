-- The lifecycle's durable inventory (issue 9; the lifecycle seed's idempotency store and "backend resource
-- inventory"): one row per installation (org + integration), written by the installation workflow's activities as
-- it moves. A fresh run of an installation workflow (after terminate, reset or a lost history) restores its
-- generation, tombstone, order keys, tenant and resources from here, so nothing resurrects and nothing is
-- orphaned; reconciliation compares Genesys Cloud, this inventory and the workflows.
-- `revision` only grows: a write older than the stored one (a dead run's late activity) changes nothing.

-- Up Migration
CREATE TABLE tollgate.installations (
  org_id text NOT NULL,
  integration_id text NOT NULL,
  task_queue text NOT NULL,
  generation integer NOT NULL DEFAULT 0,
  state text NOT NULL,
  tenant_id text,
  enabled boolean NOT NULL DEFAULT true,
  configuration jsonb NOT NULL DEFAULT '{}'::jsonb,
  resources jsonb NOT NULL DEFAULT '{}'::jsonb,
  tombstone jsonb,
  install_order jsonb,
  enabled_order jsonb,
  configuration_order jsonb,
  recent_identities jsonb NOT NULL DEFAULT '[]'::jsonb,
  last_error jsonb,
  revision bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, integration_id)
);
CREATE INDEX installations_by_queue ON tollgate.installations (task_queue, integration_id, state);

-- Down Migration
DROP TABLE IF EXISTS tollgate.installations;
