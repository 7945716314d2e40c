/**
 * The change gate's vocabulary, shared by its workflows and by every client (CLI, receivers, activities, tests):
 * inputs, states, the plan, and each signal, update and query, defined once so that no caller uses string names.
 *
 * Workflow IDs are derived from identity, so a re-sent request finds the workflow it already started:
 *   change:<changeId>                 one change (a change ID comes from CI, or `chg-<uuid>` from the CLI)
 *   target:<type>:<id>                one Genesys Cloud object: its deploy lock (FIFO) and its ledger
 *   audit:<type>:<id>:<version>       the audit of one version of one object, whether webhook or poll found it
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { FieldChange, Fields } from './config-merge';

export interface TargetRef {
  type: string;
  id: string;
}

/** `planning` is the short moment before the plan exists; the rest are the states CI and operators see. */
export const CHANGE_STATES = [
  'planning',
  'awaiting_approval',
  'approved',
  'deploying',
  'deployed',
  'audited',
  'rejected',
  'expired',
  'diverged',
  'failed',
  'rolled_back',
  'cancelled',
] as const;
export type ChangeState = (typeof CHANGE_STATES)[number];

/** Deployed and verified: the only states `tollgate change wait` exits 0 for (the "Silent Failures in CI/CD" trap). */
export const SUCCESS_STATES: readonly ChangeState[] = ['deployed', 'audited'];
/** States after which nothing more happens to the change. */
export const FINAL_STATES: readonly ChangeState[] = ['audited', 'rejected', 'expired', 'diverged', 'failed', 'rolled_back', 'cancelled'];

export interface ChangeInput {
  changeId: string;
  target: TargetRef;
  /** Fields to set; `null` removes a field. With `replace`, the complete new field set. */
  desired: Fields;
  requester: string;
  reason?: string;
  replace?: boolean;
  /** Set only by an audit workflow that found drift and whose target policy says `revert`: the one change that is
   * pre-approved. Honoured only when the change runs as that audit workflow's child (see workflows/change.ts). */
  systemRevert?: { auditWorkflowId: string; driftVersion: number };
}

/** What the worker's configuration says about changes to one target type (read by an activity: approvers, the
 * required count and the TTL are the worker's, never the submitter's). */
export interface ChangePolicy {
  approvers: string[];
  requiredApprovals: number;
  approvalTtlMs: number;
  versionRule: 'increment' | 'current';
  onDrift: 'alert' | 'revert';
  auditWaitMs: number;
}

export interface Plan {
  target: TargetRef;
  baseVersion: number;
  baseFields: Fields;
  desired: Fields;
  replace: boolean;
  diff: FieldChange[];
  /** The complete field set the deploy writes if nothing changes before it. */
  payload: Fields;
  /** sha256 hex of canonicalJson({ target, baseVersion, payload }): what approvers sign. */
  payloadHash: string;
  plannedAt: string;
}

/** One read of a Genesys Cloud object, as the deploy activities hand it to the workflow. */
export interface ObjectSnapshot {
  target: TargetRef;
  version: number;
  lastModifiedTime: string;
  modifiedBy?: { kind: string; id: string };
  fields: Fields;
}

export interface WriteRequest {
  target: TargetRef;
  /** The version the fields were merged onto; the version sent follows `versionRule`. */
  baseVersion: number;
  versionRule: 'increment' | 'current';
  fields: Fields;
}

/** A 409 and an unknown outcome are answers the workflow acts on (re-read and re-merge; settle by reading),
 * not failures to retry blindly. `genesysCalls` counts the HTTP calls the activity made. */
export type WriteOutcome =
  | { outcome: 'written'; object: ObjectSnapshot; genesysCalls: number; recognisedEarlierAttempt?: boolean }
  | { outcome: 'conflict'; currentVersion?: number; genesysCalls: number }
  | { outcome: 'unknown'; error: string; genesysCalls: number };

export interface ApprovalRequest {
  approver: string;
  payloadHash: string;
  /** hex HMAC-SHA256(TOLLGATE_APPROVAL_KEY, `${changeId}\n${payloadHash}\n${approver}`). */
  signature: string;
}

export interface Approval {
  approver: string;
  payloadHash: string;
  approvedAt: string;
  /** `tollgate` approving its own drift revert. */
  system?: boolean;
}

export interface RejectRequest {
  approver: string;
  reason: string;
}

export interface DeployResult {
  preDeployVersion: number;
  preDeployFields: Fields;
  /** The version our write produced; absent when the change was already in effect (nothing written). */
  writtenVersion?: number;
  writtenFields?: Fields;
  conflictsRetried: number;
  genesysCalls: number;
  verified: boolean;
  rollback?: { version?: number; verified: boolean };
}

export interface ChangeStatus {
  changeId: string;
  target: TargetRef;
  requester: string;
  reason?: string;
  desired: Fields;
  replace: boolean;
  systemRevert?: ChangeInput['systemRevert'];
  state: ChangeState;
  /** Why the change is where it is: a stable code (`no_change`, `conflict_retries_exhausted`, …) and words. */
  stateReason?: string;
  requiredApprovals?: number;
  approvals: Approval[];
  rejection?: { by: string; reason: string; at: string };
  plan?: Plan;
  deploy?: DeployResult;
  divergedFields?: string[];
  auditedBy?: string;
  /** When each state was entered (ISO). */
  timestamps: Partial<Record<ChangeState, string>>;
}

// Change workflow messages.
export const approveUpdate = defineUpdate<ChangeStatus, [ApprovalRequest]>('approve');
export const rejectUpdate = defineUpdate<ChangeStatus, [RejectRequest]>('reject');
export const lockGrantedSignal = defineSignal<[{ targetWorkflowId: string }]>('lockGranted');
export const auditedSignal = defineSignal<[{ version: number; auditWorkflowId: string }]>('audited');
export const planQuery = defineQuery<Plan | undefined>('plan');
export const approvalsQuery = defineQuery<{ required?: number; approvals: Approval[] }>('approvals');
export const statusQuery = defineQuery<ChangeStatus>('status');

// Target (per-object lock + ledger) messages.
export type LedgerKind = 'deploy' | 'rollback';
export interface LedgerEntry {
  version: number;
  changeId: string;
  kind: LedgerKind;
  at: string;
}
export interface ProducedVersion {
  version: number;
  kind: LedgerKind;
  fields: Fields;
}
export interface EnqueueRequest {
  changeWorkflowId: string;
  changeId: string;
}
export interface ReleaseRequest {
  changeWorkflowId: string;
  changeId: string;
  /** Versions this deploy wrote, in order; the last one's fields become the last approved state. */
  produced: ProducedVersion[];
  /** Versions a write whose outcome stayed unknown may have produced (see workflows/change.ts). */
  unconfirmed?: number[];
}
export interface ClassifyRequest {
  version: number;
  /** The audit workflow to answer with `classifiedSignal`. */
  replyTo: string;
  modifiedBy?: { kind: string; id: string };
}
export interface Classification {
  version: number;
  approved: boolean;
  changeId?: string;
  kind?: LedgerKind;
  /** The state the gate last wrote, for a drift revert. */
  lastApproved?: { version: number; fields: Fields; changeId: string };
}
export interface TargetSnapshot {
  target: TargetRef;
  holder?: EnqueueRequest & { grantedAt: string };
  queue: EnqueueRequest[];
  ledger: LedgerEntry[];
  lastApproved?: { version: number; fields: Fields; changeId: string };
  unconfirmed: { version: number; changeId: string }[];
  pendingClassifications: ClassifyRequest[];
}
export const enqueueSignal = defineSignal<[EnqueueRequest]>('enqueue');
export const releaseSignal = defineSignal<[ReleaseRequest]>('release');
export const classifySignal = defineSignal<[ClassifyRequest]>('classify');
export const targetQuery = defineQuery<TargetSnapshot>('target');

// Audit messages.
export type AuditSource = 'webhook' | 'poll';
export interface AuditInput {
  type: string;
  id: string;
  version: number;
  lastModifiedTime?: string;
  modifiedBy?: { kind: string; id: string };
  source: AuditSource;
  eventId?: string;
}
export interface AuditResult {
  target: TargetRef;
  version: number;
  source: AuditSource;
  verdict: 'approved' | 'drift';
  changeId?: string;
  alerted: boolean;
  revertChangeId?: string;
}
export const classifiedSignal = defineSignal<[Classification]>('classified');

// Heartbeat.
export interface HeartbeatResult {
  checkedAt: string;
  inBusinessHours: boolean;
  lastWebhookAuditAt?: string;
  quiet: boolean;
  polledSince?: string;
  changesFound: number;
  auditsStarted: number;
  alreadyAudited: number;
}

// Identity.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function isValidName(text: string): boolean {
  return NAME.test(text) && text.length <= 200;
}

/** `TYPE/ID` → `{ type, id }`; undefined when it is not a target address. */
export function parseTargetAddress(text: string): TargetRef | undefined {
  const slash = text.indexOf('/');
  if (slash <= 0) return undefined;
  const type = text.slice(0, slash);
  const id = text.slice(slash + 1);
  return isValidName(type) && isValidName(id) ? { type, id } : undefined;
}

export function targetAddress(target: TargetRef): string {
  return `${target.type}/${target.id}`;
}

export function changeWorkflowId(changeId: string): string {
  return `change:${changeId}`;
}

export function targetWorkflowId(target: TargetRef): string {
  return `target:${target.type}:${target.id}`;
}

export function auditWorkflowId(target: TargetRef, version: number): string {
  return `audit:${target.type}:${target.id}:${version}`;
}

/** The change that reverts drift found at `version`: one per drifted version, however often it is audited. */
export function revertChangeId(target: TargetRef, version: number): string {
  return `revert-${target.type}-${target.id}-${version}`;
}

/** Change IDs the CLI refuses, because they belong to the gate itself. */
export const RESERVED_CHANGE_ID_PREFIX = 'revert-';
