/**
 * Shared steps of the change-gate tests: seed an object in the emulator, submit a change, approve it the way CI
 * does (signed with the approval key), and wait for states — all through the real Temporal client and the
 * emulator's HTTP API.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { signApproval } from '../approvals/approval-hmac';
import { submitChange } from '../client/change-gate';
import type { changeWorkflow } from '../workflows/change';
import { approveUpdate, statusQuery, type ChangeInput, type ChangeState, type ChangeStatus } from '../workflows/change-messages';
import { targetQuery, type TargetSnapshot } from '../workflows/target-messages';
import { targetWorkflowId, type TargetRef } from '../workflows/workflow-ids';
import { eventually, uniqueId, type TestStack } from './harness/stack';

export type ChangeHandle = WorkflowHandle<typeof changeWorkflow>;

export interface EmulatorObject {
  id: string;
  type: string;
  version: number;
  lastModifiedTime: string;
  modifiedBy?: { kind: string; id: string };
  fields: Record<string, unknown>;
}

export async function seedObject(stack: TestStack, type: string, fields: Record<string, unknown>, version = 1): Promise<TargetRef> {
  const target = { type, id: uniqueId('obj') };
  await stack.emulator.admin('PUT', `/objects/${type}/${target.id}`, { ...fields, version });
  return target;
}

/** The object as Genesys Cloud (the emulator) has it now, fields separated from metadata. */
export async function readObject(stack: TestStack, target: TargetRef): Promise<EmulatorObject> {
  const object = await stack.genesys.getObject(target.type, target.id);
  const { id, type, version, lastModifiedTime, modifiedBy, selfUri: _selfUri, ...fields } = object as Record<string, unknown> & EmulatorObject;
  return { id, type, version, lastModifiedTime, modifiedBy, fields };
}

export async function submit(stack: TestStack, input: Omit<ChangeInput, 'changeId'> & { changeId?: string }): Promise<ChangeHandle> {
  return submitChange(stack.client, stack.taskQueue, { changeId: uniqueId('chg'), ...input });
}

export async function statusOf(handle: ChangeHandle): Promise<ChangeStatus> {
  return handle.query(statusQuery);
}

export async function waitForState(handle: ChangeHandle, states: ChangeState[], timeoutMs = 90_000): Promise<ChangeStatus> {
  let last: ChangeStatus | undefined;
  try {
    return await eventually(
      `change ${handle.workflowId} to reach ${states.join(' or ')}`,
      async () => {
        last = await statusOf(handle);
        return states.includes(last.state) ? last : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last state ${last?.state} (${last?.stateReason ?? ''})`, { cause: error });
  }
}

export async function planned(handle: ChangeHandle): Promise<ChangeStatus> {
  return waitForState(handle, ['awaiting_approval', 'cancelled', 'failed'], 30_000);
}

export function signature(stack: TestStack, changeId: string, payloadHash: string, approver: string): string {
  return signApproval(stack.secrets.approvalKey, changeId, payloadHash, approver);
}

/** Approves as CI does: the plan's hash, signed with the approval key. */
export async function approve(stack: TestStack, handle: ChangeHandle, approver: string, overrides: { payloadHash?: string; signature?: string } = {}) {
  const status = await statusOf(handle);
  const payloadHash = overrides.payloadHash ?? status.plan!.payloadHash;
  return handle.executeUpdate(approveUpdate, {
    args: [{ approver, payloadHash, signature: overrides.signature ?? signature(stack, status.changeId, payloadHash, approver) }],
  });
}

export async function approveBy(stack: TestStack, handle: ChangeHandle, approvers: string[]): Promise<void> {
  for (const approver of approvers) await approve(stack, handle, approver);
}

export async function targetSnapshot(stack: TestStack, target: TargetRef): Promise<TargetSnapshot> {
  return stack.client.workflow.getHandle(targetWorkflowId(target)).query(targetQuery);
}

export interface EmulatorState {
  alerts: { receivedAt: string; body: { text?: string; kind?: string; details?: Record<string, unknown> } }[];
  deliveries: { id: string; kind: string; url: string; status: string; attempts: number; responses: (number | string)[]; body: any }[];
  tokens: unknown;
  [key: string]: unknown;
}

export async function emulatorState(stack: TestStack): Promise<EmulatorState> {
  return stack.emulator.admin<EmulatorState>('GET', '/state');
}

/** Config-audit deliveries the emulator made for one object. */
export async function auditDeliveries(stack: TestStack, target: TargetRef) {
  const state = await emulatorState(stack);
  return state.deliveries.filter((delivery) => delivery.kind === 'config-audit' && delivery.body?.object?.id === target.id);
}

/** Waits until the workflow has an activity of this type running (its request is in flight). */
export async function activityInFlight(handle: WorkflowHandle, activityType: string, timeoutMs = 30_000): Promise<void> {
  await eventually(
    `${activityType} running in ${handle.workflowId}`,
    async () => {
      const description = await handle.describe();
      return (description.raw.pendingActivities ?? []).some(
        // PendingActivityState 2 = STARTED: a worker picked it up and its request is on its way.
        (activity) => activity.activityType?.name === activityType && Number(activity.state) === 2,
      );
    },
    timeoutMs,
    50,
  );
}
