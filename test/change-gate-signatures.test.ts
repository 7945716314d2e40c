/**
 * Approvals that prove who gave them (seed 000: "a signed approval token"; "If these are leaked, your approval
 * gate is broken"). Each forgery is refused with its reason and changes nothing, and a real signature — made by
 * the distribution's `ssh-keygen -Y sign -n tollgate` — is accepted. Real Temporal server, real worker verifying
 * against a real allowed-signers file, the emulator over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { approve, planned, refusal, seedObject, signAs, statementOf, statusOf, submit, updateEvents, waitForState, type ChangeHandle } from './change-gate-support';
import { useTestStack } from './fixtures';
import { eventually } from './harness/stack';
import { generateKeyWithSshKeygen, signWithSshKeygen } from './ssh-keygen';

const stack = useTestStack();

async function openChange(fields: Record<string, unknown> = { greeting: 'welcome' }): Promise<ChangeHandle> {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales' }, 4);
  const handle = await submit(stack, { target, desired: fields, requester: 'alice' });
  expect((await planned(handle)).state).toBe('awaiting_approval');
  return handle;
}

/** Nothing changed: no approval recorded, still awaiting, nothing written. */
async function unchanged(handle: ChangeHandle): Promise<void> {
  const status = await statusOf(handle);
  expect(status.approvals).toEqual([]);
  expect(status.state).toBe('awaiting_approval');
}

describe('refused with a reason, and no effect', () => {
  it('a signature by carol presented as bob', async () => {
    const handle = await openChange();
    const refused = await refusal(approve(stack, handle, 'bob', { signedBy: 'carol' }));
    expect(refused).toMatchObject({ code: 'bad_signature', message: expect.stringMatching(/belongs to carol, not with one of bob's keys/) });
    await unchanged(handle);
  });

  it('a key that is not in the allowed signers', async () => {
    const handle = await openChange();
    const path = join(stack.home, `stranger-${randomUUID()}`);
    generateKeyWithSshKeygen(path, 'ed25519', 'bob@laptop');
    const statement = await statementOf(handle, 'bob');
    const refused = await refusal(approve(stack, handle, 'bob', { statement, signature: signWithSshKeygen(path, statement) }));
    expect(refused).toMatchObject({ code: 'bad_signature', message: expect.stringMatching(/not in the allowed signers/) });
    await unchanged(handle);
  });

  it('a key removed from the allowed signers after the change was submitted: the worker re-reads the file, no restart', async () => {
    const handle = await openChange();
    const original = readFileSync(stack.allowedSignersPath, 'utf8');
    try {
      writeFileSync(stack.allowedSignersPath, original.split('\n').filter((line) => !line.startsWith('bob ')).join('\n'));
      const refused = await refusal(approve(stack, handle, 'bob'));
      expect(refused).toMatchObject({ code: 'unknown_principal', message: expect.stringMatching(/no key for bob/) });
      await unchanged(handle);
    } finally {
      writeFileSync(stack.allowedSignersPath, original);
    }
    // Back in the file, the same person's signature counts again — still without a restart.
    expect((await approve(stack, handle, 'bob')).approvals.map((approval) => approval.approver)).toEqual(['bob']);
  });

  it('a signature for another change', async () => {
    const handle = await openChange();
    const other = await openChange();
    const statement = await statementOf(other, 'bob');
    const signature = signAs(stack, 'bob', statement);
    // Presented as is: the statement names the other change.
    expect((await refusal(approve(stack, handle, 'bob', { statement, signature }))).code).toBe('wrong_change');
    // Presented with this change's statement: the signature does not verify over it.
    const refused = await refusal(approve(stack, handle, 'bob', { signature }));
    expect(refused).toMatchObject({ code: 'bad_signature', message: expect.stringMatching(/does not verify/) });
    await unchanged(handle);
    await unchanged(other);
  });

  it('a signature for another run of the same change ID', async () => {
    const handle = await openChange();
    const firstRun = await statusOf(handle);
    const oldStatement = await statementOf(handle, 'bob');
    const oldSignature = signAs(stack, 'bob', oldStatement);
    // A new run under the same workflow ID: an operator's reset to the start of the change.
    const history = await handle.fetchHistory();
    const firstTask = (history.events ?? []).find((event) => event.workflowTaskCompletedEventAttributes)!;
    await stack.client.workflowService.resetWorkflowExecution({
      namespace: stack.config.temporal.namespace,
      workflowExecution: { workflowId: handle.workflowId, runId: firstRun.runId },
      workflowTaskFinishEventId: firstTask.eventId,
      requestId: randomUUID(),
      reason: 'test: a later run of the same change ID',
    });
    const latest = stack.client.workflow.getHandle(handle.workflowId) as ChangeHandle;
    const secondRun = await eventually('the new run to await approval', async () => {
      const status = await statusOf(latest).catch(() => undefined);
      return status && status.runId !== firstRun.runId && status.state === 'awaiting_approval' ? status : undefined;
    });
    expect(secondRun.plan!.payloadHash).toBe(firstRun.plan!.payloadHash);
    const refused = await refusal(approve(stack, latest, 'bob', { statement: oldStatement, signature: oldSignature }));
    expect(refused).toMatchObject({ code: 'wrong_run', message: expect.stringContaining(firstRun.runId) });
    await unchanged(latest);
    // Issue 19: the first refusal of each code and principal reaches history (the ledger records it); repeats never do.
    expect(await updateEvents(latest)).toBe(1);
  });

  it('a signature for another base version or another payload, refused by the validator (the first of each kind recorded)', async () => {
    const handle = await openChange();
    const status = await statusOf(handle);
    const statement = await statementOf(handle, 'bob');
    const otherBase = statement.replace(`base-version: ${status.plan!.baseVersion}`, `base-version: ${status.plan!.baseVersion + 1}`);
    const otherPayload = statement.replace(status.plan!.payloadHash, 'e'.repeat(64));
    expect((await refusal(approve(stack, handle, 'bob', { statement: otherBase }))).code).toBe('wrong_base_version');
    expect((await refusal(approve(stack, handle, 'bob', { statement: otherPayload }))).code).toBe('wrong_payload_hash');
    await unchanged(handle);
    // Issue 19: the first refusal of each code and principal reaches history (the ledger records it); repeats never do.
    expect(await updateEvents(handle)).toBe(2);
  });

  it('a tampered statement', async () => {
    const handle = await openChange();
    const status = await statusOf(handle);
    // bob signed a statement for another payload; someone edits the hash to this plan's and presents it.
    const signedByBob = (await statementOf(handle, 'bob')).replace(status.plan!.payloadHash, 'd'.repeat(64));
    const signature = signAs(stack, 'bob', signedByBob);
    const refused = await refusal(approve(stack, handle, 'bob', { signature }));
    expect(refused).toMatchObject({ code: 'bad_signature', message: expect.stringMatching(/does not verify/) });
    // bob's real approval statement, re-labelled as carol's.
    const bobs = await statementOf(handle, 'bob');
    const relabelled = bobs.replace('principal: bob', 'principal: carol');
    expect((await refusal(approve(stack, handle, 'carol', { statement: relabelled, signature: signAs(stack, 'bob', bobs) }))).code).toBe('bad_signature');
    await unchanged(handle);
  });
});

describe('accepted', () => {
  it('a signature made by the real ssh-keygen -Y sign -n tollgate, and one made in-process as --key does; then it deploys', async () => {
    const handle = await openChange();
    const statement = await statementOf(handle, 'dave');
    const bySshKeygen = signWithSshKeygen(stack.keyPath('dave'), statement);
    expect(bySshKeygen).toMatch(/^-----BEGIN SSH SIGNATURE-----\n/);
    await approve(stack, handle, 'dave', { statement, signature: bySshKeygen });
    await approve(stack, handle, 'carol');
    const status = await waitForState(handle, ['deployed', 'audited']);
    expect(status.approvals.map((approval) => [approval.approver, approval.via])).toEqual([
      ['dave', 'signature'],
      ['carol', 'signature'],
    ]);
    expect(status.deploy?.verified).toBe(true);
  });
});
