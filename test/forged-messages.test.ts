/**
 * Issue 19: forged messages between workflows, sent with a plain Temporal client (what the receivers hold), decide
 * nothing. Real Temporal server, worker and emulator over HTTP.
 */
import type { auditWorkflow } from '../workflows/audit';
import { classifiedSignal } from '../workflows/audit-messages';
import { acquireLockUpdate, releaseSignal } from '../workflows/target-messages';
import type { targetWorkflow } from '../workflows/target';
import { auditWorkflowId, changeWorkflowId, revertChangeId, targetWorkflowId, type TargetRef } from '../workflows/workflow-ids';
import { approveBy, planned, readObject, seedObject, submit, targetSnapshot, waitForState } from './change-gate-support';
import { useTestStack } from './fixtures';
import { eventually } from './harness/stack';

const stack = useTestStack({ env: { TOLLGATE_TARGETS: JSON.stringify({ ivr: { versionRule: 'increment', onDrift: 'revert' } }) } });

async function deployed(fields: Record<string, unknown>, desired: Record<string, unknown>) {
  const target = await seedObject(stack, 'ivr', fields);
  const handle = await submit(stack, { target, desired, requester: 'alice' });
  await planned(handle);
  await approveBy(stack, handle, ['bob', 'carol']);
  const status = await waitForState(handle, ['audited']);
  return { target, status };
}

async function exists(workflowId: string): Promise<boolean> {
  return stack.client.workflow
    .getHandle(workflowId)
    .describe()
    .then(() => true, () => false);
}

it("the issue's attack: a forged audit and `classified` answer write nothing and leave the last approved state as it was", async () => {
  const { target } = await deployed({ greeting: 'hello' }, { greeting: 'welcome' });
  const before = await targetSnapshot(stack, target);
  expect(before.lastApproved?.fields).toMatchObject({ greeting: 'welcome' });

  const version = 1001;
  await stack.client.workflow.signalWithStart<typeof auditWorkflow, [unknown]>('auditWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: auditWorkflowId(target, version),
    args: [{ type: target.type, id: target.id, version, source: 'webhook' }],
    signal: classifiedSignal,
    signalArgs: [{ version, approved: false, lastApproved: { version: 998, changeId: 'x', fields: { greeting: 'ATTACKER' } } }],
  });
  const result = await stack.client.workflow.getHandle<typeof auditWorkflow>(auditWorkflowId(target, version)).result();
  expect(result).toMatchObject({ verdict: 'unverified', alerted: false });
  expect(await exists(changeWorkflowId(revertChangeId(target, version)))).toBe(false);
  expect((await readObject(stack, target)).fields).toMatchObject({ greeting: 'welcome' });
  expect((await targetSnapshot(stack, target)).lastApproved).toEqual(before.lastApproved);
});

it('a forged `release` naming a real change does not move the last approved state; one naming nobody changes nothing', async () => {
  const { target, status } = await deployed({ greeting: 'hello' }, { greeting: 'bonjour' });
  const before = await targetSnapshot(stack, target);
  const handle = stack.client.workflow.getHandle<typeof targetWorkflow>(targetWorkflowId(target));
  const poison = { version: 999, kind: 'deploy' as const, fields: { greeting: 'ATTACKER' } };
  await handle.signal(releaseSignal, { changeWorkflowId: changeWorkflowId(status.changeId), changeId: status.changeId, produced: [poison] });
  await handle.signal(releaseSignal, { changeWorkflowId: 'change:ghost', changeId: 'ghost', produced: [poison] });
  await eventually('the releases read', async () => ((await targetSnapshot(stack, target)).releaseHints ?? []).length === 0);
  const after = await targetSnapshot(stack, target);
  expect(after.lastApproved).toEqual(before.lastApproved);
  expect(after.ledger.some((entry) => entry.version === 999)).toBe(false);
});

it('a forged `acquireLock` for a change that does not exist loses the lock at once', async () => {
  const target: TargetRef = await seedObject(stack, 'ivr', { greeting: 'hello' });
  // The target exists once a change was deployed to it; a forged lock request may also create it.
  const handle = stack.client.workflow.getHandle<typeof targetWorkflow>(targetWorkflowId(target));
  await stack.client.workflow.start('targetWorkflow', { taskQueue: stack.taskQueue, workflowId: targetWorkflowId(target), args: [{ target }] });
  const grant = await handle.executeUpdate(acquireLockUpdate, { args: [{ changeWorkflowId: 'change:ghost', changeId: 'ghost' }] });
  expect(grant.granted).toBe(true);
  await eventually('the forged holder dropped', async () => (await targetSnapshot(stack, target)).holder === undefined);
  // A genuine change still deploys.
  const change = await submit(stack, { target, desired: { greeting: 'welcome' }, requester: 'alice' });
  await planned(change);
  await approveBy(stack, change, ['bob', 'carol']);
  expect((await waitForState(change, ['audited', 'deployed', 'failed'])).state).toMatch(/audited|deployed/);
});
