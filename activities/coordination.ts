/**
 * Messages from change and audit workflows to an object's target workflow that may have to create it
 * (update-with-start, signal-with-start), which workflow code cannot do itself (nor send an update), plus the holder
 * liveness check of the lock. The calls
 * themselves are client/change-gate.ts's: activities reach other workflows through the same door as everyone.
 */
import { acquireDeployLock, isWorkflowRunning, requestClassification, requestDeployLock } from '../client/change-gate';
import type { LockGrant } from '../workflows/target-messages';
import type { TargetRef } from '../workflows/workflow-ids';
import type { ActivityDeps } from './deps';

export interface LockRequest {
  target: TargetRef;
  changeWorkflowId: string;
  changeId: string;
  taskQueue: string;
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
  };
}
