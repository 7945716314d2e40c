-- Tollgate's own schema: everything Tollgate keeps in PostgreSQL lives under `tollgate` (tenant schemas created by
-- lifecycle provisioning are separate, one per tenant). Later migrations add its tables.

-- Up Migration
CREATE SCHEMA IF NOT EXISTS tollgate;

-- Down Migration
DROP SCHEMA IF EXISTS tollgate CASCADE;
