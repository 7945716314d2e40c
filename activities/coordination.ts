/**
 * Messages from change and audit workflows to an object's target workflow that may have to create it
 * (signal-with-start), which workflow code cannot do itself, plus the holder liveness check of the lock.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { TollgateKind, TollgateTarget } from '../platform/search-attributes';
import { classifySignal, enqueueSignal, targetAddress, targetWorkflowId, type TargetRef } from '../workflows/change-messages';
import { targetWorkflow } from '../workflows/target';
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
  modifiedBy?: { kind: string; id: string };
  taskQueue: string;
}

export function createCoordinationActivities(deps: Pick<ActivityDeps, 'temporal'>) {
  const startOptions = (target: TargetRef, taskQueue: string) => ({
    workflowId: targetWorkflowId(target),
    taskQueue,
    args: [{ target }] as [{ target: TargetRef }],
    typedSearchAttributes: [
      { key: TollgateKind, value: 'target' },
      { key: TollgateTarget, value: targetAddress(target) },
    ],
  });

  return {
    /** Queues the change for the object's deploy lock; the target workflow signals `lockGranted` in turn. */
    async requestDeployLock(request: LockRequest): Promise<void> {
      await deps.temporal.workflow.signalWithStart(targetWorkflow, {
        ...startOptions(request.target, request.taskQueue),
        signal: enqueueSignal,
        signalArgs: [{ changeWorkflowId: request.changeWorkflowId, changeId: request.changeId }],
      });
    },

    /** Asks the object's ledger whether an approved deploy produced `version`; the answer comes back as a signal. */
    async requestClassification(request: ClassificationRequest): Promise<void> {
      await deps.temporal.workflow.signalWithStart(targetWorkflow, {
        ...startOptions(request.target, request.taskQueue),
        signal: classifySignal,
        signalArgs: [{ version: request.version, replyTo: request.replyTo, modifiedBy: request.modifiedBy }],
      });
    },

    async isWorkflowRunning(workflowId: string): Promise<boolean> {
      try {
        const description = await deps.temporal.workflow.getHandle(workflowId).describe();
        return description.status.name === 'RUNNING';
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      }
    },
  };
}
