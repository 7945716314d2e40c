/**
 * How clients (the CLI, the receivers, activities, tests, the benchmark) start and talk to change-gate workflows.
 * Client-side code: never imported by workflow code.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TollgateKind, TollgateRequester, TollgateSource, TollgateState, TollgateTarget } from '../platform/search-attributes';
import { auditWorkflow } from './audit';
import { changeWorkflow } from './change';
import { canonicalJson } from './config-merge';
import { auditWorkflowId, changeWorkflowId, statusQuery, targetAddress, type AuditInput, type ChangeInput, type ChangeStatus } from './change-messages';

export class ChangeIdConflictError extends Error {
  constructor(readonly changeId: string, readonly existing: ChangeStatus) {
    super(`change ID ${changeId} is already used by a different change (target ${targetAddress(existing.target)}, requester ${existing.requester})`);
    this.name = 'ChangeIdConflictError';
  }
}

/**
 * Starts `change:<changeId>`, or finds it: the same ID again (CI re-running a job) is the same change, running or
 * finished (reuse policy REJECT_DUPLICATE: a finished change is never restarted under its ID). An ID already used
 * for another target, payload or requester is refused.
 */
export async function submitChange(client: Client, taskQueue: string, input: ChangeInput): Promise<WorkflowHandle<typeof changeWorkflow>> {
  const workflowId = changeWorkflowId(input.changeId);
  let handle: WorkflowHandle<typeof changeWorkflow>;
  try {
    handle = await client.workflow.start(changeWorkflow, {
      workflowId,
      taskQueue,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: TollgateKind, value: 'change' },
        { key: TollgateTarget, value: targetAddress(input.target) },
        { key: TollgateRequester, value: input.requester },
        { key: TollgateState, value: 'planning' },
      ],
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    handle = client.workflow.getHandle<typeof changeWorkflow>(workflowId);
  }
  const status = await handle.query(statusQuery);
  if (!sameChange(status, input)) throw new ChangeIdConflictError(input.changeId, status);
  return handle;
}

export function sameChange(status: ChangeStatus, input: ChangeInput): boolean {
  return (
    status.target.type === input.target.type &&
    status.target.id === input.target.id &&
    status.requester === input.requester &&
    status.replace === (input.replace ?? false) &&
    canonicalJson(status.desired) === canonicalJson(input.desired)
  );
}

/** Starts `audit:<type>:<id>:<version>` unless it was ever started: `duplicate` for a re-sent or already-polled
 * event (reuse policy REJECT_DUPLICATE: an audit never runs twice, even after it finished). */
export async function startAudit(client: Client, taskQueue: string, input: AuditInput): Promise<'started' | 'duplicate'> {
  const target = { type: input.type, id: input.id };
  try {
    await client.workflow.start(auditWorkflow, {
      workflowId: auditWorkflowId(target, input.version),
      taskQueue,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      typedSearchAttributes: [
        { key: TollgateKind, value: 'audit' },
        { key: TollgateTarget, value: targetAddress(target) },
        { key: TollgateSource, value: input.source },
        { key: TollgateState, value: 'pending' },
      ],
    });
    return 'started';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'duplicate';
    throw error;
  }
}

/** The refusal code of a failed approve/reject update (`self_approval`, `bad_signature`, …), if it is one. */
export function refusalOf(error: unknown): { code: string; message: string } | undefined {
  const cause = error instanceof WorkflowUpdateFailedError ? error.cause : error;
  if (cause instanceof ApplicationFailure && ['ApprovalRefused', 'BadApprovalSignature', 'RejectionRefused'].includes(cause.type ?? '')) {
    const code = typeof cause.details?.[0] === 'string' ? (cause.details[0] as string) : (cause.type as string);
    return { code, message: cause.message };
  }
  return undefined;
}
