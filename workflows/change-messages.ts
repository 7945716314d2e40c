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
  'refused',
] as const;
export type ChangeState = (typeof CHANGE_STATES)[number];

/** Deployed and verified: the only states `tollgate change wait` exits 0 for (the "Silent Failures in CI/CD" trap). */
export const SUCCESS_STATES: readonly ChangeState[] = ['deployed', 'audited'];
/** States after which nothing more happens to the change. `refused`: the submission was not proven (unsigned, a
 * bad signature, a pull request that does not hold the submitted file, …); nothing was planned. */
export const FINAL_STATES: readonly ChangeState[] = ['audited', 'rejected', 'expired', 'diverged', 'failed', 'rolled_back', 'cancelled', 'refused'];
/**
 * Final states where an operator must act: the gate could not finish a deploy (`failed`), or wrote something that read
 * back wrong and rolled it back (`rolled_back`). The change workflow ends as a *failure* for these, so the Temporal
 * UI counts and shows them; every other final state is a decision (rejected, expired, cancelled, refused) or
 * someone else's edit (diverged) and completes. The rule: docs/operations.md, "Which workflows fail".
 */
export const OPERATOR_STATES: readonly ChangeState[] = ['failed', 'rolled_back'];

/**
 * A reason never repeats its state: everything that shows both prints `state: reason` (`diverged: diverged: …` was
 * the doubled word issue 12 found). A reason that starts with its state's name loses it.
 */
export function withoutStateName(state: ChangeState, reason: string): string {
  const name = state.replace(/_/g, '[_ ]');
  return reason.replace(new RegExp(`^${name}(?::\\s*|\\s+)`, 'i'), '');
}

/** A change linked to a pull request: the reviews on the commit it was planned from are its approvals. */
export interface PullRequestLink {
  /** `owner/repo`, lower case. */
  repository: string;
  number: number;
  /** The file in the repository that holds the desired fields. */
  path: string;
}

/** `owner/repo#N`: the search attribute and the webhook's key for a pull request. */
export function pullRequestKey(link: Pick<PullRequestLink, 'repository' | 'number'>): string {
  return `${link.repository.toLowerCase()}#${link.number}`;
}

/** `owner/repo#N:path`: how a submission statement names the linked pull request. */
export function pullRequestReference(link: PullRequestLink): string {
  return `${pullRequestKey(link)}:${link.path}`;
}

export interface ChangeInput {
  changeId: string;
  target: TargetRef;
  /** Fields to set; `null` removes a field. With `replace`, the complete new field set. */
  desired: Fields;
  /** Who asks: proven by `submission` (their SSH signature) or, for a change linked to a pull request, by the pull
   * request itself (its author). Compared trimmed and case-insensitively; never blank. */
  requester: string;
  reason?: string;
  replace?: boolean;
  /** The requester's armored SSH signature over the `submit` statement (approvals/statement.ts, submission.ts). */
  submission?: { signature: string };
  pullRequest?: PullRequestLink;
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
  /** How often a change linked to a pull request re-reads its reviews (the webhook only makes it sooner). */
  pullRequestRecheckMs: number;
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

/**
 * What the worker last read of the live object while the change waited for approval: its version and which fields
 * this plan touches that someone else changed since the plan (then the plan is stale and approvals are refused
 * with `stale_plan`). Read at each signed approval and by `tollgate change status` (the checkLive update); one GET.
 */
export interface LiveCheck {
  version: number;
  /** False for a type without a version: `version` means nothing, `changedFields` does. */
  versioned: boolean;
  lastModifiedTime?: string;
  /** Who last modified the object, as the platform names them. */
  modifiedBy?: string;
  changedFields: string[];
  checkedAt: string;
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
  /** Read the object back once written, in the same activity (the canary check without a hop of its own). */
  readBack?: boolean;
}

/** A 409 and an unknown outcome are answers the workflow acts on (re-read and re-merge; settle by reading),
 * not failures to retry blindly. `genesysCalls` counts the HTTP calls the activity made. */
export type WriteOutcome =
  | {
      outcome: 'written';
      object: ObjectSnapshot;
      genesysCalls: number;
      recognisedEarlierAttempt?: boolean;
      /** Genesys Cloud's `ININ-Correlation-Id` of the write that answered (absent when an earlier attempt's was lost). */
      requestId?: string;
      /** The object as read after the write (asked for with `readBack`); absent when that read failed. */
      readBack?: ObjectSnapshot;
    }
  | { outcome: 'conflict'; currentVersion?: number; genesysCalls: number }
  | { outcome: 'unknown'; error: string; genesysCalls: number };

/** An approval or a rejection, proven: the statement the principal signed (approvals/statement.ts) and their
 * armored SSH signature over it (`ssh-keygen -Y sign -n tollgate`, or `tollgate change approve --key`). */
export interface SignedDecision {
  /** The principal who decides; compared trimmed and case-insensitively. */
  approver: string;
  statement: string;
  signature: string;
}

export type ApprovalRequest = SignedDecision;

export interface RejectRequest extends SignedDecision {
  /** A note for people; not part of what is signed. */
  reason: string;
}

export interface Approval {
  /** The canonical principal. */
  approver: string;
  payloadHash: string;
  approvedAt: string;
  /** How it was proven: an SSH signature, a pull-request review read by the worker, or the gate itself. */
  via: 'signature' | 'review' | 'system';
  /** The SSH key that signed (`SHA256:…`). */
  keyFingerprint?: string;
  review?: { login: string; id: number; commitId: string; submittedAt?: string };
  /** `tollgate` approving its own drift revert. */
  system?: boolean;
}

/** A review the worker read and did not count, and why (`older_commit`, `author`, `dismissed`, …). */
export interface UncountedReview {
  login: string;
  reviewId: number;
  state: string;
  reason: string;
}

/** What the worker found when it proved a submission. */
export interface SubmissionProof {
  requester: string;
  via: 'signature' | 'pull_request' | 'system';
  keyFingerprint?: string;
}

export interface PullRequestStatus extends PullRequestLink {
  url?: string;
  /** The pull request's author (login): their own review never counts. */
  author: string;
  /** The head commit the change was planned from: only reviews on it count. */
  plannedCommit: string;
  /** sha256 hex of the canonical JSON of the file at the planned commit, which is the change's desired fields. */
  desiredSha256: string;
  state: 'open' | 'closed' | 'merged';
  lastCheckedAt?: string;
  /** Why the last re-check could not read the pull request (it is tried again at the next one). */
  lastError?: string;
  notCounted: UncountedReview[];
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
  rollback?: { version?: number; verified: boolean; /** The fields the read-back found wrong. */ mismatch?: string[] };
}

export interface ChangeStatus {
  changeId: string;
  /** The Temporal namespace and this change's run: both are named in every statement signed for it. */
  namespace: string;
  runId: string;
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
  rejection?: { by: string; reason: string; at: string; via?: 'signature' | 'review' | 'pull_request' };
  submittedBy?: SubmissionProof;
  /** The pull request the submission links to, as submitted. */
  linkedPullRequest?: PullRequestLink;
  /** The linked pull request, as the worker verified and last read it. */
  pullRequest?: PullRequestStatus;
  plan?: Plan;
  /** The worker's last read of the live object before the deploy (see LiveCheck). */
  live?: LiveCheck;
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
/** Reads the live object now (one GET, on the Genesys task queue) and says whether it moved since the plan; only
 * while the change awaits approval. */
export const checkLiveUpdate = defineUpdate<LiveCheck, []>('checkLive');
export const lockGrantedSignal = defineSignal<[{ targetWorkflowId: string }]>('lockGranted');
export const auditedSignal = defineSignal<[{ version: number; auditWorkflowId: string }]>('audited');
/** The linked pull request changed (a review, a push, closed): re-read it now rather than at the next re-check. */
export const pullRequestChangedSignal = defineSignal<[{ event: string }]>('pullRequestChanged');
/** What this change's deploy produced, as the change itself knows it: the target workflow reads it (by an activity)
 * when told `release`, instead of trusting the signal's payload (issue 19). `released`: the change let go of the lock. */
export interface DeployOutcome {
  changeId: string;
  target: TargetRef;
  released: boolean;
  produced: { version: number; kind: 'deploy' | 'rollback'; fields: Fields; at?: string; versioned?: boolean }[];
  unconfirmed: { version?: number; fields: Fields; at: string }[];
}
export const deployOutcomeQuery = defineQuery<DeployOutcome>('deployOutcome');
export const planQuery = defineQuery<Plan | undefined>('plan');
export const approvalsQuery = defineQuery<{ required?: number; approvals: Approval[] }>('approvals');
export const statusQuery = defineQuery<ChangeStatus>('status');
