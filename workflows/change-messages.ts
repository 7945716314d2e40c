/**
 * The change workflow's contract (`change:<changeId>`), shared by the workflow and every client (CLI, tests,
 * benchmarks): its input, states, plan and status; the updates, signals and queries it answers, defined once so
 * that nobody uses string names; and the shapes its deploy activities exchange with it.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { FieldChange, Fields } from './config-merge';
import type { TargetRef } from './workflow-ids';

export type { TargetRef };

/** Keys of a configuration object that are not fields: the server manages them and a change cannot set them. */
export const METADATA_KEYS: readonly string[] = ['id', 'type', 'version', 'lastModifiedTime', 'modifiedBy', 'selfUri'];

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
/** How a write carries the version: `increment` (the seeds' current + 1), `current` (Genesys Cloud's own rule), or
 * `none` — the platform has no optimistic lock for the type, and Tollgate's own guard is all there is. */
export type VersionRule = 'increment' | 'current' | 'none';

export interface ChangePolicy {
  approvers: string[];
  requiredApprovals: number;
  approvalTtlMs: number;
  versionRule: VersionRule;
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
  /** The target type's version rule, and in words how the write is protected against someone else's (an
   * unversioned type says plainly that the platform offers no optimistic lock for it). */
  versionRule?: VersionRule;
  lock?: string;
}

/** One read of a Genesys Cloud object, as the deploy activities hand it to the workflow. */
export interface ObjectSnapshot {
  target: TargetRef;
  version: number;
  lastModifiedTime: string;
  modifiedBy?: { kind: string; id: string; name?: string };
  fields: Fields;
}

export interface WriteRequest {
  target: TargetRef;
  /** The version the fields were merged onto; the version sent follows `versionRule` (none for `none`). */
  baseVersion: number;
  versionRule: VersionRule;
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
  /** Who changed the diverged fields, when the read-back found a person's (or another client's) edit. */
  divergedBy?: string;
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
