/**
 * The approval gate: a change is planned against the live object, and only the policy's approvals — distinct,
 * never the requester, from the configured set, bound to the payload hash, signed with the worker's key — let it
 * deploy. Every refusal comes back to CI with its reason and changes nothing. Real Temporal server, real worker,
 * the emulator over HTTP.
 */
import { createHash } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ChangeIdConflictError, refusalOf, submitChange } from '../client/change-gate';
import { canonicalJson } from '../workflows/canonical-json';
import { rejectUpdate } from '../workflows/change-messages';
import { heartbeatWorkflow } from '../workflows/heartbeat';
import {
  approve,
  approveBy,
  planned,
  readObject,
  seedObject,
  signature,
  statusOf,
  submit,
  waitForState,
  type ChangeHandle,
} from './change-gate-support';
import { useTestStack } from './fixtures';
import { eventually, uniqueId, type TestStack } from './harness/stack';

const stack = useTestStack({ env: { TOLLGATE_APPROVERS: 'alice,bob,carol,dave', TOLLGATE_REQUIRED_APPROVALS: '2' } });

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
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
async function updateEvents(handle: ChangeHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes || event.workflowExecutionUpdateRejectedEventAttributes).length;
}

async function openChange(requester = 'alice'): Promise<{ handle: ChangeHandle; payloadHash: string }> {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales' });
  const handle = await submit(stack, { target, desired: { greeting: 'welcome' }, requester });
  const status = await planned(handle);
  return { handle, payloadHash: status.plan!.payloadHash };
}

describe('change plan', () => {
  it('reads the live object and records base version, diff and a payload hash over canonical JSON', async () => {
    const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales', menu: { b: 2, a: 1 } }, 7);
    const handle = await submit(stack, { target, desired: { greeting: 'welcome', retired: null }, requester: 'alice' });
    const status = await planned(handle);
    const plan = status.plan!;
    expect(status.state).toBe('awaiting_approval');
    expect(plan.baseVersion).toBe(7);
    expect(plan.baseFields).toEqual({ greeting: 'hello', queue: 'sales', menu: { a: 1, b: 2 } });
    expect(plan.diff).toEqual([{ field: 'greeting', from: 'hello', to: 'welcome' }]);
    expect(plan.payload).toEqual({ greeting: 'welcome', queue: 'sales', menu: { a: 1, b: 2 } });
    const expected = createHash('sha256').update(canonicalJson({ target, baseVersion: 7, payload: plan.payload })).digest('hex');
    expect(plan.payloadHash).toBe(expected);
  });

  it('treats the same change ID as the same change, and refuses it for a different payload', async () => {
    const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
    const changeId = uniqueId('ci-build');
    const first = await submitChange(stack.client, stack.taskQueue, { changeId, target, desired: { greeting: 'hi' }, requester: 'alice' });
    const again = await submitChange(stack.client, stack.taskQueue, { changeId, target, desired: { greeting: 'hi' }, requester: 'alice' });
    expect(again.workflowId).toBe(first.workflowId);
    expect((await again.describe()).runId).toBe((await first.describe()).runId);
    await expect(
      submitChange(stack.client, stack.taskQueue, { changeId, target, desired: { greeting: 'something else' }, requester: 'alice' }),
    ).rejects.toBeInstanceOf(ChangeIdConflictError);
  });

  it('ends a change that changes nothing as cancelled (no_change), without asking for approvals', async () => {
    const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
    const handle = await submit(stack, { target, desired: { greeting: 'hello' }, requester: 'alice' });
    const status = await handle.result();
    expect(status.state).toBe('cancelled');
    expect(status.stateReason).toMatch(/^no_change/);
  });

  it('fails a change to an object that does not exist', async () => {
    const handle = await submit(stack, { target: { type: 'ivr', id: uniqueId('missing') }, desired: { greeting: 'x' }, requester: 'alice' });
    const status = await handle.result();
    expect(status.state).toBe('failed');
    expect(status.stateReason).toMatch(/target_not_found/);
  });
});

describe('approval policy', () => {
  it('refuses self-approval', async () => {
    const { handle } = await openChange('alice');
    const refused = await refusal(approve(stack, handle, 'alice'));
    expect(refused.code).toBe('self_approval');
    expect((await statusOf(handle)).approvals).toHaveLength(0);
    expect(await updateEvents(handle)).toBe(0);
  });

  it('refuses a duplicate approver', async () => {
    const { handle } = await openChange();
    await approve(stack, handle, 'bob');
    const refused = await refusal(approve(stack, handle, 'bob'));
    expect(refused.code).toBe('duplicate_approver');
    const status = await statusOf(handle);
    expect(status.approvals.map((a) => a.approver)).toEqual(['bob']);
    expect(status.state).toBe('awaiting_approval');
  });

  it('refuses an approval for the wrong payload hash', async () => {
    const { handle } = await openChange();
    const otherHash = 'f'.repeat(64);
    const refused = await refusal(approve(stack, handle, 'bob', { payloadHash: otherHash }));
    expect(refused.code).toBe('wrong_payload_hash');
    expect((await statusOf(handle)).approvals).toHaveLength(0);
    expect(await updateEvents(handle)).toBe(0);
  });

  it('refuses a bad signature, checked with the key only the worker holds', async () => {
    const { handle, payloadHash } = await openChange();
    // Signed with another key; and a signature for another approver; and one that is not hex at all.
    const forged = signature({ ...stack, secrets: { ...stack.secrets, approvalKey: 'not-the-approval-key-at-all' } } as TestStack, (await statusOf(handle)).changeId, payloadHash, 'bob');
    const otherApprover = signature(stack, (await statusOf(handle)).changeId, payloadHash, 'carol');
    for (const bad of [forged, otherApprover]) {
      const error = await approve(stack, handle, 'bob', { signature: bad }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(refusalOf(error)?.code).toBe('bad_signature');
      expect((error as WorkflowUpdateFailedError & { cause: { type: string } }).cause.type).toBe('BadApprovalSignature');
    }
    expect((await refusal(approve(stack, handle, 'bob', { signature: 'zz-not-hex' }))).code).toBe('bad_signature');
    const status = await statusOf(handle);
    expect(status.approvals).toHaveLength(0);
    expect(status.state).toBe('awaiting_approval');
  });

  it('refuses an unknown approver', async () => {
    const { handle } = await openChange();
    const refused = await refusal(approve(stack, handle, 'mallory'));
    expect(refused.code).toBe('unknown_approver');
    expect(await updateEvents(handle)).toBe(0);
  });

  it('ends the change on one rejection, and refuses approvals after it', async () => {
    const { handle } = await openChange();
    await approve(stack, handle, 'bob');
    await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'carol', reason: 'breaks the after-hours menu' }] });
    const status = await handle.result();
    expect(status.state).toBe('rejected');
    expect(status.rejection).toMatchObject({ by: 'carol', reason: 'breaks the after-hours menu' });
    // The change is over: Temporal itself refuses any further update (the CLI reports it as not_awaiting_approval).
    await expect(approve(stack, handle, 'dave')).rejects.toThrow(/already completed/);
    expect((await statusOf(handle)).approvals.map((a) => a.approver)).toEqual(['bob']);
  });

  it('lets the requester withdraw (cancelled), and refuses a rejection from outside the approver set', async () => {
    const { handle } = await openChange('alice');
    const refused = await refusal(handle.executeUpdate(rejectUpdate, { args: [{ approver: 'mallory', reason: 'no' }] }));
    expect(refused.code).toBe('unknown_approver');
    await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'alice', reason: 'wrong ticket' }] });
    expect((await handle.result()).state).toBe('cancelled');
  });

  it('deploys only after two distinct approvals, then is audited through the webhook', async () => {
    const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales' });
    const handle = await submit(stack, { target, desired: { greeting: 'welcome' }, requester: 'alice' });
    await planned(handle);
    await approve(stack, handle, 'bob');
    // One approval is not enough: nothing is written.
    expect((await statusOf(handle)).state).toBe('awaiting_approval');
    expect((await readObject(stack, target)).version).toBe(1);
    await approveBy(stack, handle, ['carol']);
    const status = await waitForState(handle, ['audited']);
    expect(status.deploy).toMatchObject({ preDeployVersion: 1, writtenVersion: 2, verified: true, conflictsRetried: 0 });
    expect(status.auditedBy).toBe(`audit:ivr:${target.id}:2`);
    const object = await readObject(stack, target);
    expect(object.fields).toEqual({ greeting: 'welcome', queue: 'sales' });
    expect(object.modifiedBy?.kind).toBe('client');
  });
});

describe('the heartbeat', () => {
  it('does not poll while audit webhooks keep arriving', async () => {
    // A UI edit moments ago, audited through the webhook (quiet period: 30 min), so the test needs no earlier one.
    const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
    await stack.emulator.admin('POST', `/objects/${target.type}/${target.id}/ui-edit`, { user: 'eve', fields: { greeting: 'hi' } });
    const result = await eventually('a heartbeat that sees the recent webhook', async () => {
      const run = await stack.client.workflow.execute(heartbeatWorkflow, { taskQueue: stack.taskQueue, workflowId: uniqueId('heartbeat-test') });
      return run.quiet ? undefined : run;
    });
    expect(result).toMatchObject({ inBusinessHours: true, quiet: false, changesFound: 0, auditsStarted: 0 });
    expect(result.lastWebhookAuditAt).toBeUndefined();
  });
});
