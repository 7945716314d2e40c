/**
 * Shared steps of the change-gate tests: seed an object in the emulator, submit a change signed by its requester,
 * approve or reject it the way a person does (their own SSH key over this run's statement, from the stack's
 * sandbox keys), and wait for states — all through the real Temporal client and the emulator's HTTP API.
 */
import { readFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { canonicalPrincipal } from '../approvals/principal';
import { signStatement } from '../approvals/signed-statement';
import { parsePrivateKey } from '../approvals/ssh-keys';
import { renderStatement } from '../approvals/statement';
import { submissionStatement } from '../approvals/submission';
import { refusalOf, statementFor, submitChange } from '../client/change-gate';
import type { changeWorkflow } from '../workflows/change';
import {
  approveUpdate,
  pullRequestReference,
  rejectUpdate,
  statusQuery,
  type ChangeInput,
  type ChangeState,
  type ChangeStatus,
} from '../workflows/change-messages';
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

/** Signs `text` with a sandbox person's private key (alice, bob, carol, dave), as `--key` does. */
export function signAs(stack: TestStack, keyHolder: string, text: string): string {
  return signStatement(text, parsePrivateKey(readFileSync(stack.keyPath(keyHolder), 'utf8')));
}

/** The `submit` statement of `input` (what its requester signs). */
export function submitStatement(stack: TestStack, input: ChangeInput): string {
  return renderStatement(
    submissionStatement(
      { ...input, pullRequest: input.pullRequest ? pullRequestReference(input.pullRequest) : undefined },
      stack.config.temporal.namespace,
    ),
  );
}

/**
 * Submits a change signed by its requester's key, as the CLI does; `unsigned` submits it without a signature,
 * `signedBy` signs with someone else's key. A change linked to a pull request is not signed unless asked.
 */
export async function submit(
  stack: TestStack,
  input: Omit<ChangeInput, 'changeId'> & { changeId?: string },
  options: { unsigned?: boolean; signedBy?: string } = {},
): Promise<ChangeHandle> {
  const full: ChangeInput = { changeId: uniqueId('chg'), ...input };
  const signer = options.signedBy ?? (input.pullRequest ? undefined : canonicalPrincipal(input.requester));
  if (!options.unsigned && !full.submission && signer) full.submission = { signature: signAs(stack, signer, submitStatement(stack, full)) };
  return submitChange(stack.client, stack.taskQueue, full);
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

/** The statement `principal` signs to approve (or reject) the change as it stands. */
export async function statementOf(handle: ChangeHandle, principal: string, decision: 'approve' | 'reject' = 'approve'): Promise<string> {
  const statement = statementFor(await statusOf(handle), decision, principal);
  if (!statement) throw new Error(`${handle.workflowId} has no plan yet`);
  return statement;
}

export interface DecisionOverrides {
  /** The statement presented (default: this run's statement for the approver). */
  statement?: string;
  /** The signature presented (default: the statement signed with `signedBy`'s key). */
  signature?: string;
  /** Whose key signs (default: the approver's own). */
  signedBy?: string;
}

async function signedDecision(stack: TestStack, handle: ChangeHandle, approver: string, decision: 'approve' | 'reject', overrides: DecisionOverrides) {
  const statement = overrides.statement ?? (await statementOf(handle, canonicalPrincipal(approver) ?? 'nobody', decision));
  const signature = overrides.signature ?? signAs(stack, overrides.signedBy ?? canonicalPrincipal(approver)!, statement);
  return { approver, statement, signature };
}

/** Approves as a person does: this run's statement, signed with their own key. */
export async function approve(stack: TestStack, handle: ChangeHandle, approver: string, overrides: DecisionOverrides = {}) {
  return handle.executeUpdate(approveUpdate, { args: [await signedDecision(stack, handle, approver, 'approve', overrides)] });
}

/** Rejects (or, as the requester, withdraws), signed like an approval. */
export async function reject(stack: TestStack, handle: ChangeHandle, approver: string, reason: string, overrides: DecisionOverrides = {}) {
  return handle.executeUpdate(rejectUpdate, { args: [{ ...(await signedDecision(stack, handle, approver, 'reject', overrides)), reason }] });
}

export async function approveBy(stack: TestStack, handle: ChangeHandle, approvers: string[]): Promise<void> {
  for (const approver of approvers) await approve(stack, handle, approver);
}

/**
 * Approves, then runs `meanwhile` after the last approval was accepted and before the deploy reads the object: an
 * emulator latency fault holds back the object's next two reads at `readPath` (the last approval's live check, then
 * the deploy's first read), and `meanwhile` runs once that deploy read is in flight. The staged race of "someone
 * edits the object between the approval and the deploy" (an edit before the approval makes the plan stale instead).
 */
export async function approveThenMeanwhile(stack: TestStack, handle: ChangeHandle, approvers: string[], readPath: string, meanwhile: () => Promise<unknown>): Promise<void> {
  await approveBy(stack, handle, approvers.slice(0, -1));
  const fault = await stack.emulator.admin<{ id: string }>('POST', '/faults', { method: 'GET', pathPrefix: readPath, latencyMs: 1500, count: 2 });
  await approve(stack, handle, approvers[approvers.length - 1]);
  // The deploy's read is a local activity (not in the description's pending activities): it is in flight once the
  // emulator counted the fault's second hit.
  await eventually(`the deploy's read of ${readPath} in flight`, async () => {
    const state = await stack.emulator.admin<{ faults: { id: string; hits: number }[] }>('GET', '/state');
    return state.faults.find((candidate) => candidate.id === fault.id)?.hits === 2;
  });
  await meanwhile();
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

/** The refusal (code and message) an approval, rejection or submission was answered with; throws if it was accepted. */
export async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    const refused = refusalOf(error);
    if (refused) return refused;
    throw error;
  }
  throw new Error('the approval was accepted');
}

/** Update events in the change's history: a refusal by the validator must leave none. */
export async function updateEvents(handle: ChangeHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes || event.workflowExecutionUpdateRejectedEventAttributes).length;
}
