-- Outbound change events (issue 13): the audit ledger is their source; what each endpoint has been given is kept here.

-- Up Migration
-- One cursor per delivery endpoint of a deployment (its task queue): the last ledger row (seq) the endpoint has
-- acknowledged. It only moves forward, after a 2xx (or a ticket system's success), so an endpoint that was down
-- catches up from here, in ledger order, and a worker that died mid-delivery resumes here (at-least-once).
CREATE TABLE tollgate.event_cursors (
  task_queue text NOT NULL,
  endpoint text NOT NULL,
  delivered_seq bigint NOT NULL,
  -- The row an attempt began delivering and has not confirmed: the next attempt knows its side effects may have
  -- happened already (a ticket created, a comment posted) and checks before repeating them.
  attempting_seq bigint,
  failures integer NOT NULL DEFAULT 0,
  last_error text,
  last_error_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (task_queue, endpoint)
);

-- Events an endpoint refused for good (a 4xx a retry cannot change, e.g. a ticket deleted by hand): recorded and
-- passed over, so one refused event does not hold back every later one.
CREATE TABLE tollgate.event_refusals (
  task_queue text NOT NULL,
  endpoint text NOT NULL,
  seq bigint NOT NULL,
  event_type text NOT NULL,
  reason text NOT NULL,
  refused_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (task_queue, endpoint, seq)
);

-- The ticket of each change in a ticket system. A row with no ticket_key is a claim: a create was sent and its
-- outcome is not known (a crash, a lost answer); the adapter searches the ticket system for it before creating again.
CREATE TABLE tollgate.change_tickets (
  task_queue text NOT NULL,
  endpoint text NOT NULL,
  change_id text NOT NULL,
  ticket_key text,
  ticket_url text,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz,
  PRIMARY KEY (task_queue, endpoint, change_id)
);

-- Down Migration
DROP TABLE IF EXISTS tollgate.change_tickets;
DROP TABLE IF EXISTS tollgate.event_refusals;
DROP TABLE IF EXISTS tollgate.event_cursors;
