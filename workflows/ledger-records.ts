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
  'change.refused',
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
  /** The change's ticket in a change-management system (tickets/), opened by the outbound delivery loop. */
  'change.ticket',
  /** A message to the change's workflow that did not hold up when checked (issue 19); the first of each kind only. */
  'change.message_refused',
  // audits of Genesys Cloud versions
  'audit.approved',
  'audit.drift',
  'audit.reverting',
  /** The audit's version is not one the object ever reached: a forged or mistaken audit; nothing alerted or reverted. */
  'audit.unverified',
  /** A message to an object's target workflow (its lock and ledger) that did not hold up when checked. */
  'target.message_refused',
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

/**
 * The data each kind carries. The outbound change events (Standard Webhooks), the ticket adapters and
 * `tollgate change status` on a change Temporal no longer has all read these shapes.
 */
export interface LedgerData {
  'change.submitted': {
    changeId: string;
    /** `type/id`. */
    target: string;
    requester: string;
    reason?: string;
    desired: Record<string, unknown>;
    /** `owner/repo#n` when the change is linked to a pull request. */
    pullRequest?: string;
    /** How the requester was proven: their SSH signature (key fingerprint), their pull request, or the gate. */
    proof?: { requester: string; via: 'signature' | 'pull_request' | 'system'; keyFingerprint?: string };
    /** The requester's signed statement and signature, when the submission was signed. */
    statement?: string;
    signature?: string;
  };
  'change.refused': { reason: string };
  'change.planned': {
    baseVersion: number;
    payloadHash: string;
    diff: Array<{ field: string; from?: unknown; to?: unknown }>;
    baseFields: Record<string, unknown>;
    payload: Record<string, unknown>;
    requiredApprovals: number;
  };
  'change.approved': {
    principal: string;
    via: 'signature' | 'review' | 'system';
    payloadHash: string;
    keyFingerprint?: string;
    statement?: string;
    signature?: string;
    review?: Record<string, unknown>;
    approvals: number;
    required: number;
  };
  'change.approval_refused': { principal: string; code: string; reason: string; decision?: 'reject' };
  'change.rejected': { by: string; reason: string; via?: string; signature?: string };
  'change.withdrawn': { by: string; reason: string; via?: string };
  'change.expired': { afterMs: number };
  'change.cancelled': { reason: string };
  'change.deploying': { baseVersion: number };
  'change.written': {
    versionBefore: number;
    versionAfter: number;
    kind: 'deploy' | 'rollback';
    fields: string[];
    /** Genesys Cloud's `ININ-Correlation-Id` of the write. */
    requestId?: string;
  };
  'change.verified': { version: number; reason?: string };
  'change.rolled_back': { mismatch: string[]; rollbackVersion?: number; verified: boolean };
  'change.diverged': { fields: string[]; by?: string; reason: string };
  'change.failed': { reason: string };
  'change.audited': { version: number; auditWorkflowId: string };
  /** `system`: `jira`; `endpoint`: the delivery endpoint that opened it; `key`: the issue key (`CHG-12`). */
  'change.ticket': { system: 'jira'; endpoint: string; key: string; url: string };
  'audit.approved': { target: string; version: number; changeId?: string; source: string; modifiedBy?: { kind: string; id: string } };
  'audit.drift': { target: string; version: number; source: string; modifiedBy?: { kind: string; id: string }; revertChangeId?: string };
  'audit.reverting': { target: string; version: number; revertChangeId: string; toVersion: number };
  'audit.unverified': { target: string; version: number; source: string; liveVersion?: number; reason: string };
  /** `message`: the signal or update (`audited`, `lockGranted`, `release`, `acquireLock`); `reason`: why it was refused. */
  'change.message_refused': { message: string; reason: string; hint?: string };
  'target.message_refused': { target: string; message: string; reason: string; changeWorkflowId?: string };
  'lifecycle.event_received': Record<string, unknown>;
  'lifecycle.transition': Record<string, unknown>;
}
