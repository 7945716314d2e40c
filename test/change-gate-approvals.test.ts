/**
 * The approval gate: a change is planned against the live object, and only the policy's approvals — distinct,
 * never the requester, from the configured set, each an SSH signature by the approver's own key over this run's
 * statement (bound to the payload hash), verified by the worker against its allowed signers — let it deploy.
 * Every refusal comes back to CI with its reason and changes nothing. Real Temporal server, real worker, the
 * emulator over HTTP, real keys (test/harness/stack.ts makes them as `npm start` does).
 */
import { createHash } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ChangeIdConflictError, changeResult, refusalOf, submitChange } from '../client/change-gate';
import { canonicalJson } from '../workflows/canonical-json';
import { rejectUpdate } from '../workflows/change-messages';
import { heartbeatWorkflow } from '../workflows/heartbeat';
import {
  approve,
  approveBy,
  planned,
  readObject,
  refusal,
  reject,
  seedObject,
  signAs,
  statementOf,
  statusOf,
  submit,
  submitStatement,
  updateEvents,
  waitForState,
  type ChangeHandle,
} from './change-gate-support';
import { useTestStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';

const stack = useTestStack({ env: { TOLLGATE_APPROVERS: 'alice,bob,carol,dave', TOLLGATE_REQUIRED_APPROVALS: '2' } });

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
    const first = await submit(stack, { changeId, target, desired: { greeting: 'hi' }, requester: 'alice' });
    const again = await submit(stack, { changeId, target, desired: { greeting: 'hi' }, requester: ' Alice' });
    expect(again.workflowId).toBe(first.workflowId);
    expect((await again.describe()).runId).toBe((await first.describe()).runId);
    await expect(submit(stack, { changeId, target, desired: { greeting: 'something else' }, requester: 'alice' })).rejects.toBeInstanceOf(ChangeIdConflictError);
    // The requester's submission was proven by their key; the status says so, and names the run statements bind to.
    const status = await planned(first);
    expect(status.submittedBy).toMatchObject({ requester: 'alice', via: 'signature', keyFingerprint: expect.stringMatching(/^SHA256:/) });
    expect(status.runId).toBe((await first.describe()).runId);
    expect(status.namespace).toBe(stack.config.temporal.namespace);
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
    // `failed` needs an operator: the workflow ends as a failure, with its status as the failure's first detail.
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'ChangeFailed' } });
    const status = await changeResult(handle);
    expect(status.state).toBe('failed');
    expect(status.stateReason).toMatch(/target_not_found/);
  });
});

describe('approval policy', () => {
  it('refuses self-approval, however the name is spelled, and a blank name', async () => {
    const { handle } = await openChange('alice');
    expect((await refusal(approve(stack, handle, 'alice'))).code).toBe('self_approval');
    // The same person, differently cased and padded, with their own valid key: still the requester.
    expect((await refusal(approve(stack, handle, ' ALICE ', { signedBy: 'alice' }))).code).toBe('self_approval');
    const blank = await statementOf(handle, 'alice');
    expect((await refusal(approve(stack, handle, '   ', { statement: blank, signedBy: 'alice' }))).code).toBe('blank_principal');
    expect((await statusOf(handle)).approvals).toHaveLength(0);
    // Issue 19: the first refusal of each decision, code and principal reaches history, so the ledger records it
    // (self_approval by alice and blank_principal, once each: the repeat by " ALICE " is refused unseen); repeats never do.
    expect(await updateEvents(handle)).toBe(2);
  });

  it('refuses a duplicate approver', async () => {
    const { handle } = await openChange();
    await approve(stack, handle, 'bob');
    const refused = await refusal(approve(stack, handle, 'BOB'));
    expect(refused.code).toBe('duplicate_approver');
    const status = await statusOf(handle);
    expect(status.approvals.map((a) => a.approver)).toEqual(['bob']);
    expect(status.approvals[0]).toMatchObject({ via: 'signature', keyFingerprint: expect.stringMatching(/^SHA256:/) });
    expect(status.state).toBe('awaiting_approval');
  });

  it('refuses an approval signed for another payload hash, in the validator', async () => {
    const { handle, payloadHash } = await openChange();
    const otherPayload = (await statementOf(handle, 'bob')).replace(payloadHash, 'f'.repeat(64));
    const refused = await refusal(approve(stack, handle, 'bob', { statement: otherPayload }));
    expect(refused.code).toBe('wrong_payload_hash');
    expect((await statusOf(handle)).approvals).toHaveLength(0);
    // Issue 19: the first refusal of each decision, code and principal reaches history, so the ledger records it
    // (wrong_payload_hash, once); repeats never do.
    expect(await updateEvents(handle)).toBe(1);
  });

  it("refuses a signature that is not the approver's, checked against the allowed signers by the worker", async () => {
    const { handle } = await openChange();
    const statement = await statementOf(handle, 'bob');
    // carol's valid signature of bob's statement, presented as bob.
    const error = await approve(stack, handle, 'bob', { signedBy: 'carol' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(refusalOf(error)?.code).toBe('bad_signature');
    expect(refusalOf(error)?.message).toMatch(/belongs to carol/);
    expect((error as WorkflowUpdateFailedError & { cause: { type: string } }).cause.type).toBe('BadApprovalSignature');
    // Not an SSH signature at all: refused in the validator.
    expect((await refusal(approve(stack, handle, 'bob', { statement, signature: 'ab'.repeat(32) }))).code).toBe('bad_signature');
    const status = await statusOf(handle);
    expect(status.approvals).toHaveLength(0);
    expect(status.state).toBe('awaiting_approval');
  });

  it('refuses an unknown approver', async () => {
    const { handle } = await openChange();
    const statement = await statementOf(handle, 'mallory');
    const refused = await refusal(approve(stack, handle, 'mallory', { statement, signature: signAs(stack, 'dave', statement) }));
    expect(refused.code).toBe('unknown_approver');
    // Issue 19: the first refusal of each decision, code and principal reaches history, so the ledger records it
    // (unknown_approver, once); repeats never do.
    expect(await updateEvents(handle)).toBe(1);
  });

  it('ends the change on one signed rejection, and refuses approvals after it', async () => {
    const { handle } = await openChange();
    await approve(stack, handle, 'bob');
    await reject(stack, handle, 'carol', 'breaks the after-hours menu');
    const status = await handle.result();
    expect(status.state).toBe('rejected');
    expect(status.rejection).toMatchObject({ by: 'carol', reason: 'breaks the after-hours menu', via: 'signature' });
    // The change is over: Temporal itself refuses any further update (the CLI reports it as not_awaiting_approval).
    await expect(approve(stack, handle, 'dave', { statement: 'x', signature: 'y' })).rejects.toThrow(/already completed/);
    expect((await statusOf(handle)).approvals.map((a) => a.approver)).toEqual(['bob']);
  });

  it('refuses an unsigned rejection, one signed by someone else, and one from outside the approver set; the requester withdraws (signed)', async () => {
    const { handle } = await openChange('alice');
    const statement = await statementOf(handle, 'carol', 'reject');
    expect((await refusal(handle.executeUpdate(rejectUpdate, { args: [{ approver: 'carol', reason: 'no', statement, signature: '' }] }))).code).toBe('unsigned');
    expect((await refusal(handle.executeUpdate(rejectUpdate, { args: [{ approver: 'carol', reason: 'no', statement: '', signature: '' }] }))).code).toBe('unsigned');
    // Issue 19: the first refusal of each decision, code and principal reaches history, so the ledger records it
    // (unsigned by carol, once: the second is refused unseen); repeats never do.
    expect(await updateEvents(handle)).toBe(1);
    // Anyone who can reach Temporal could name the requester; without the requester's key it is refused.
    expect((await refusal(reject(stack, handle, 'alice', 'withdraw', { signedBy: 'dave' }))).code).toBe('bad_signature');
    const mallory = await statementOf(handle, 'mallory', 'reject');
    expect((await refusal(reject(stack, handle, 'mallory', 'no', { statement: mallory, signature: signAs(stack, 'dave', mallory) }))).code).toBe('unknown_approver');
    expect((await statusOf(handle)).state).toBe('awaiting_approval');
    await reject(stack, handle, 'alice', 'wrong ticket');
    const status = await handle.result();
    expect(status.state).toBe('cancelled');
    expect(status.stateReason).toBe('withdrawn by alice: wrong ticket');
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

describe('submissions', () => {
  it('refuses (and plans nothing for) an unsigned submission, one signed by someone else, and a blank requester', async () => {
    const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
    const unsigned = await submit(stack, { target, desired: { greeting: 'x' }, requester: 'alice' }, { unsigned: true });
    const byBob = await submit(stack, { target, desired: { greeting: 'x' }, requester: 'alice' }, { signedBy: 'bob' });
    const blankId = uniqueId('blank');
    const aliceSigned = submitStatement(stack, { changeId: blankId, target, desired: { greeting: 'x' }, requester: 'alice' });
    const blank = await submit(stack, { changeId: blankId, target, desired: { greeting: 'x' }, requester: '  ', submission: { signature: signAs(stack, 'alice', aliceSigned) } });
    for (const [handle, code] of [
      [unsigned, 'unsigned'],
      [byBob, 'bad_signature'],
      [blank, 'blank_principal'],
    ] as const) {
      const status = await handle.result();
      expect(status.state).toBe('refused');
      expect(status.stateReason).toMatch(new RegExp(`^${code}: `));
      expect(status.plan).toBeUndefined();
    }
  });

  it('refuses a signature over another request (the fields changed after signing)', async () => {
    const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
    const changeId = uniqueId('chg');
    // alice signed { greeting: 'hi' } for this change ID; the same signature on other fields is refused.
    const honest = { changeId, target, desired: { greeting: 'hi' }, requester: 'alice' };
    const aliceSignature = signAs(stack, 'alice', submitStatement(stack, honest));
    const tampered = await submitChange(stack.client, stack.taskQueue, { ...honest, desired: { greeting: 'pwned' }, submission: { signature: aliceSignature } });
    const status = await tampered.result();
    expect(status.state).toBe('refused');
    expect(status.stateReason).toMatch(/^bad_signature: /);
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
