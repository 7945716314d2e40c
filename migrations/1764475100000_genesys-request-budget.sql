-- The Genesys Cloud request budget shared by every worker process (issue 11): one row per budget (an OAuth client of
-- an org, or one of its resources with a lower limit) holding the GCRA "theoretical arrival time" in epoch
-- milliseconds, and one function that takes a permit from one or more budgets at once, or says how long to wait.
--
-- GCRA (the generic cell rate algorithm, a leaky bucket kept as one number): each permit moves the budget's time
-- forward by its emission interval; a permit is granted while that time is no further ahead of now than the burst
-- tolerance. One row update per permit, O(1), whatever the limit. Rows are locked in the order the caller gives
-- (sorted), so two callers taking overlapping budgets never deadlock.

-- Up Migration
CREATE TABLE IF NOT EXISTS tollgate.genesys_request_budget (
  key text PRIMARY KEY,
  tat_ms double precision NOT NULL
);

CREATE OR REPLACE FUNCTION tollgate.take_genesys_permit(keys text[], intervals_ms double precision[], tolerances_ms double precision[])
RETURNS double precision
LANGUAGE plpgsql
AS $$
DECLARE
  now_ms double precision := extract(epoch FROM clock_timestamp()) * 1000;
  wait_ms double precision := 0;
  tat double precision;
  i integer;
BEGIN
  FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
    SELECT tat_ms INTO tat FROM tollgate.genesys_request_budget WHERE key = keys[i] FOR UPDATE;
    IF NOT FOUND THEN
      INSERT INTO tollgate.genesys_request_budget (key, tat_ms) VALUES (keys[i], 0) ON CONFLICT (key) DO NOTHING;
      SELECT tat_ms INTO tat FROM tollgate.genesys_request_budget WHERE key = keys[i] FOR UPDATE;
    END IF;
    wait_ms := greatest(wait_ms, greatest(tat, now_ms) - now_ms - tolerances_ms[i]);
  END LOOP;
  IF wait_ms > 0 THEN
    RETURN wait_ms;
  END IF;
  FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
    UPDATE tollgate.genesys_request_budget SET tat_ms = greatest(tat_ms, now_ms) + intervals_ms[i] WHERE key = keys[i];
  END LOOP;
  RETURN 0;
END;
$$;

-- Down Migration
DROP FUNCTION IF EXISTS tollgate.take_genesys_permit(text[], double precision[], double precision[]);
DROP TABLE IF EXISTS tollgate.genesys_request_budget;
