-- The audit ledger (issue 10; the change seed's "Immutable Audit Trail"): every step of every change, every audit
-- verdict and every lifecycle event, append-only and hash-chained, kept for as long as TOLLGATE_LEDGER_RETENTION
-- says, whatever Temporal's namespace retention is. ledger/audit-ledger.ts is the only writer.

-- Up Migration
CREATE TABLE tollgate.audit_events (
  -- Gapless, assigned under the chain head's lock: a deleted row leaves a hole that `tollgate audit verify` names.
  seq bigint PRIMARY KEY,
  recorded_at timestamptz NOT NULL,
  -- The natural key of the record (e.g. `change:<id>:approval:<principal>`): an activity retried after a lost
  -- answer finds its row instead of writing a second one.
  event_key text NOT NULL UNIQUE,
  kind text NOT NULL,
  subject text NOT NULL,
  -- Canonical JSON of the whole record (seq, time, key, kind, subject, data): what the hash covers.
  content text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX audit_events_subject ON tollgate.audit_events (subject, seq);
CREATE INDEX audit_events_recorded_at ON tollgate.audit_events (recorded_at);
CREATE INDEX audit_events_kind ON tollgate.audit_events (kind, seq);

-- The chain head: one row, locked FOR UPDATE by every append, so appends from any number of workers form one chain.
CREATE TABLE tollgate.audit_chain (
  id int PRIMARY KEY CHECK (id = 1),
  last_seq bigint NOT NULL,
  last_hash text NOT NULL
);
-- Genesis: sha256('tollgate audit ledger v1').
INSERT INTO tollgate.audit_chain (id, last_seq, last_hash)
VALUES (1, 0, 'fcf459a4bf5311bda93920ec0e070ec2ac59c7453c1a7c8646ce1b2d3043ec1f');

-- Retention: rows older than the ledger's retention are pruned in order; the last pruned row's seq and hash are kept
-- here, so verification of what remains starts from a known anchor.
CREATE TABLE tollgate.audit_checkpoints (
  pruned_through_seq bigint PRIMARY KEY,
  hash text NOT NULL,
  pruned_at timestamptz NOT NULL DEFAULT now()
);

-- Append-only by default: an UPDATE or DELETE is refused unless the session declares the ledger's own pruning. This
-- stops accidents, not a database superuser; what stops them is the hash chain.
CREATE FUNCTION tollgate.audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('tollgate.ledger_prune', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'tollgate.audit_events is append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON tollgate.audit_events
FOR EACH ROW EXECUTE FUNCTION tollgate.audit_events_append_only();

-- Down Migration
DROP TABLE IF EXISTS tollgate.audit_checkpoints;
DROP TABLE IF EXISTS tollgate.audit_chain;
DROP TABLE IF EXISTS tollgate.audit_events;
DROP FUNCTION IF EXISTS tollgate.audit_events_append_only();
