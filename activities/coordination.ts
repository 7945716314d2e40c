/**
 * Messages from change and audit workflows to an object's target workflow that may have to create it
 * (update-with-start, signal-with-start), which workflow code cannot do itself (nor send an update), plus the holder
 * liveness check of the lock. The calls
 * themselves are client/change-gate.ts's: activities reach other workflows through the same door as everyone.
 */
import {
  acquireDeployLock,
  auditConfirmationProblem,
  awaitReleaseApplied,
  isWorkflowRunning,
  lockHolderProblem,
  readClassification,
  readReleasedDeploy,
  requestClassification,
  requestDeployLock,
} from '../client/change-gate';
import type { DeployOutcome } from '../workflows/change-messages';
import type { Classification, ClassifyRequest, LockGrant } from '../workflows/target-messages';
import type { TargetRef } from '../workflows/workflow-ids';
import type { ActivityDeps } from './deps';

export interface LockRequest {
  target: TargetRef;
  changeWorkflowId: string;
  changeId: string;
  taskQueue: string;
  /** How often the change asked before (a re-ask after a `lockGranted` wake-up is its own update). */
  ask?: number;
}

export interface ClassificationRequest {
  target: TargetRef;
  version: number;
  replyTo: string;
  modifiedBy?: { kind: string; id: string; name?: string };
  taskQueue: string;
  byUs?: boolean;
  match?: 'version' | 'time';
  at?: string;
}

export function createCoordinationActivities(deps: Pick<ActivityDeps, 'temporal'>) {
  return {
    /** The object's deploy lock for the change: granted now, or queued (the target signals `lockGranted` in turn). */
    async acquireDeployLock(request: LockRequest): Promise<LockGrant> {
      return acquireDeployLock(deps.temporal, request);
    },

    /** Changes started before acquireDeployLock (replayed histories): queue; `lockGranted` comes in turn. */
    async requestDeployLock(request: LockRequest): Promise<void> {
      await requestDeployLock(deps.temporal, request);
    },

    /** Asks the object's ledger whether an approved deploy produced `version`; the answer comes back as a signal. */
    async requestClassification(request: ClassificationRequest): Promise<void> {
      await requestClassification(deps.temporal, request);
    },

    async isWorkflowRunning(workflowId: string): Promise<boolean> {
      return isWorkflowRunning(deps.temporal, workflowId);
    },

    // Issue 19: the facts behind the messages between workflows, read from the workflow that owns each.

    /** The target, told `release`: what the change itself says it deployed (never the signal's payload). */
    async readReleasedDeploy(request: { changeWorkflowId: string; target: TargetRef; taskQueue: string }): Promise<{ ok: true; outcome: DeployOutcome } | { ok: false; reason: string }> {
      return readReleasedDeploy(deps.temporal, request);
    },

    /** The change, after `release`: waits until the target has applied it (the change stays open for its read). */
    async awaitReleaseApplied(request: { target: TargetRef; changeWorkflowId: string }): Promise<boolean> {
      return awaitReleaseApplied(deps.temporal, request);
    },

    /** The target, on every new holder of its lock: a running change of this deployment, approved, for this object. */
    async checkLockHolder(request: { changeWorkflowId: string; changeId: string; target: TargetRef; taskQueue: string }): Promise<{ problem?: string }> {
      const problem = await lockHolderProblem(deps.temporal, request);
      return problem ? { problem } : {};
    },

    /** The audit, woken by `classified`: the target's answer to the audit's own request. */
    async readClassification(request: { target: TargetRef; request: ClassifyRequest }): Promise<Classification | null> {
      return (await readClassification(deps.temporal, request.target, request.request)) ?? null;
    },

    /** The change, told `audited`: the audit's own verdict names this change (and its version). */
    async confirmAudit(request: { auditWorkflowId: string; changeId: string; target: TargetRef; version?: number; taskQueue: string }): Promise<{ problem?: string }> {
      const problem = await auditConfirmationProblem(deps.temporal, request);
      return problem ? { problem } : {};
    },
  };
}
