/**
 * What the audit ledger records (the change seed's "Architecting the Immutable Audit Trail"): the shape of one
 * record and every kind, shared by the workflows that decide what happened and the activity that appends it
 * (activities/ledger.ts → ledger/audit-ledger.ts). Pure: safe in workflow code.
 *
 * Every record has a natural key, unique in the ledger, so an activity retried after a lost answer finds its row
 * instead of writing a second one. Keys are built from identity (`change:<id>:approval:<principal>`), never from a
 * clock or a random number.
 */

export const LEDGER_KINDS = [
  // change gate
  'change.submitted',
  'change.planned',
  'change.approved',
  'change.approval_refused',
  'change.rejected',
  'change.withdrawn',
  'change.expired',
  'change.cancelled',
  'change.deploying',
  'change.written',
  'change.verified',
  'change.rolled_back',
  'change.diverged',
  'change.failed',
  'change.audited',
  // audits of Genesys Cloud versions
  'audit.approved',
  'audit.drift',
  'audit.reverting',
  // lifecycle
  'lifecycle.event_received',
  'lifecycle.transition',
] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

export interface LedgerRecord {
  /** Natural key, unique in the ledger. */
  key: string;
  kind: LedgerKind;
  /** The workflow the record belongs to (`change:<id>`, `audit:<type>:<id>:<version>`, `installation:<org>:<int>`). */
  subject: string;
  /** What happened, as JSON. Never a secret: signatures and public identities only. */
  data: Record<string, unknown>;
}

/** One row as the ledger returns it. */
export interface LedgerRow extends LedgerRecord {
  seq: number;
  recordedAt: string;
  hash: string;
  prevHash: string;
}
