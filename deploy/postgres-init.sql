-- The database Tollgate's lifecycle provisioning creates tenant schemas in (DATABASE_URL points at it).
CREATE DATABASE tollgate;
