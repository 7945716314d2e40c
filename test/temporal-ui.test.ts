/**
 * The Temporal UI at a glance (issue 12): each workflow is started with a static summary and details (Temporal's
 * user metadata) and keeps its current details up to date (state, reason, who), read back here as the UI reads
 * them — `describe()` for the static ones, the built-in `__temporal_workflow_metadata` query for the current ones.
 * Outcomes an operator must act on end as workflow failures (the UI's Failed count) carrying the final status;
 * decisions complete. An installation that could not be torn down cannot fail (it must outlive its tombstone): its
 * details say "Action needed". Real Temporal server, worker and emulator.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { changeResult, checkLiveObject } from '../client/change-gate';
import { statusQuery } from '../workflows/change-messages';
import { auditWorkflowId, installationWorkflowId, targetWorkflowId } from '../workflows/workflow-ids';
import { approve, approveBy, emulatorState, planned, reject, seedObject, submit, waitForState } from './change-gate-support';
import { useTestStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';
import { CRM, emit, settledIn } from './lifecycle-support';

const stack = useTestStack();

afterEach(async () => {
  await stack.emulator.admin('DELETE', '/faults');
});

/** What the UI shows as the workflow's current details (the SDK's built-in metadata query). */
async function currentDetails(handle: WorkflowHandle): Promise<string> {
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

async function detailsMatching(handle: WorkflowHandle, pattern: RegExp): Promise<string> {
  return eventually(`current details of ${handle.workflowId} to match ${pattern}`, async () => {
    const details = await currentDetails(handle);
    return pattern.test(details) ? details : undefined;
  });
}

it("a change's description carries its summary and request, and its current details follow it: state, reason, approvals and who gave them, the plan, the deploy", async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales' });
  const handle = await submit(stack, { target, desired: { greeting: 'welcome', queue: 'support' }, requester: 'alice', reason: 'acme/config#7' });
  await planned(handle);

  const description = await handle.describe();
  expect(await description.staticSummary()).toBe(`ivr/${target.id}: greeting, queue — requested by alice`);
  const staticDetails = await description.staticDetails();
  expect(staticDetails).toContain(`**Requested by** alice (signed)`);
  expect(staticDetails).toContain('**Reason** acme/config#7');
  expect(staticDetails).toContain('"greeting": "welcome"');

  const waiting = await currentDetails(handle);
  expect(waiting).toMatch(/^\*\*awaiting_approval\*\*/);
  expect(waiting).toContain('Approvals 0/2');
  expect(waiting).toMatch(/Plan on version 1, payload sha256 `[0-9a-f]{16}…`: 2 fields/);
  expect(waiting).toContain('- `greeting`: "hello" → "welcome"');

  await approve(stack, handle, 'bob');
  expect(await currentDetails(handle)).toContain('Approvals 1/2: bob (signature)');
  await approve(stack, handle, 'carol');
  await waitForState(handle, ['audited']);
  const audited = await detailsMatching(handle, /^\*\*audited\*\*/);
  expect(audited).toMatch(/^\*\*audited\*\* — verified at version 2; audited by audit:ivr:/);
  expect(audited).toContain('Approvals 2/2: bob (signature), carol (signature)');
  expect(audited).toContain('Deploy: version 1 → 2, verified true');
  expect((await handle.describe()).status.name).toBe('COMPLETED');

  // The object's target workflow and the audit of the written version say what they are, too.
  const lock = stack.client.workflow.getHandle(targetWorkflowId(target));
  expect(await (await lock.describe()).staticSummary()).toBe(`ivr/${target.id}: deploy lock and ledger of approved versions`);
  expect(await detailsMatching(lock, /Last approved version 2/)).toMatch(/^\*\*Lock free\*\*/);
  const audit = stack.client.workflow.getHandle(auditWorkflowId(target, 2));
  expect(await (await audit.describe()).staticSummary()).toMatch(new RegExp(`^ivr/${target.id} version 2 by OAuth client .* \\(webhook\\)$`));
  expect(await currentDetails(audit)).toBe(`**approved**: produced by change \`${(await handle.query(statusQuery)).changeId}\``);
});

it('a change rolled back by the gate ends as a workflow failure (type ChangeRolledBack) carrying its final status, still answering queries', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const handle = await submit(stack, { target, desired: { greeting: 'welcome' }, requester: 'alice' });
  await planned(handle);
  // The platform acknowledges the write and forgets it: the read-back fails, the gate rolls back.
  await stack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: `/api/v2/configuration/ivr/${target.id}`, discardWrite: true, count: 1 });
  await approveBy(stack, handle, ['bob', 'carol']);

  const failure = await handle.result().then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'ChangeRolledBack', message: expect.stringMatching(/rolled_back: read-back mismatch/) });
  expect((await handle.describe()).status.name).toBe('FAILED');
  const status = await changeResult(handle);
  expect(status).toMatchObject({ state: 'rolled_back', deploy: { rollback: { verified: true } } });
  // Queries still answer on a failed workflow (what `tollgate change wait` and `status` read).
  expect((await handle.query(statusQuery)).state).toBe('rolled_back');
  expect(await currentDetails(handle)).toMatch(/^\*\*rolled_back\*\* — read-back mismatch/);
  const failed = await eventually('the failed change in visibility', async () => {
    const found: string[] = [];
    for await (const execution of stack.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}' AND ExecutionStatus = 'Failed'` })) found.push(execution.workflowId);
    return found.length > 0 ? found : undefined;
  });
  expect(failed).toEqual([handle.workflowId]);
});

it('a rejected change is a decision: it completes, and its reason does not repeat its state', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const handle = await submit(stack, { target, desired: { greeting: 'welcome' }, requester: 'alice' });
  await planned(handle);
  await reject(stack, handle, 'bob', 'wrong menu');
  expect((await handle.result()).state).toBe('rejected');
  expect((await handle.describe()).status.name).toBe('COMPLETED');
  expect(await currentDetails(handle)).toMatch(/^\*\*rejected\*\* — by bob: wrong menu\n\nApprovals 0\/2\n\nRejected by bob: wrong menu/);
});

it('the live check (checkLive update) is shown in the current details when the plan went stale', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const handle = await submit(stack, { target, desired: { greeting: 'welcome' }, requester: 'alice' });
  const { changeId } = await planned(handle);
  await stack.emulator.admin('POST', `/objects/ivr/${target.id}/ui-edit`, { user: 'eve', fields: { greeting: 'bonjour' } });
  expect(await checkLiveObject(stack.client, changeId)).toMatchObject({ version: 2, changedFields: ['greeting'], modifiedBy: 'user eve' });
  expect(await currentDetails(handle)).toContain('Stale: greeting changed on the live object since the plan (approvals are refused)');
});

it('an installation that could not be torn down cannot fail (it outlives its tombstone): its details begin "Action needed"', async () => {
  const orgId = uniqueId('org-ui');
  const tenantId = `tenant_${orgId}`;
  await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
  await settledIn(stack, orgId, 'active');
  const handle = stack.client.workflow.getHandle(installationWorkflowId(orgId, stack.integrationId));
  expect(await (await handle.describe()).staticSummary()).toBe(`installation of ${stack.integrationId} in org ${orgId} (tenant ${tenantId})`);
  expect(await currentDetails(handle)).toMatch(/^\*\*active\*\*\n\nGeneration 1, tenant `tenant_org-ui-[^`]+`; resources: tenant, schema, crm/);

  await stack.emulator.admin('POST', '/faults', { method: 'DELETE', pathPrefix: `/partner/tenants/${tenantId}`, status: 400 });
  await emit(stack, orgId, { event: 'uninstalled' });
  await settledIn(stack, orgId, 'deprovisioning_failed');
  expect(await detailsMatching(handle, /^\*\*Action needed/)).toMatch(/^\*\*Action needed: deprovisioning_failed\*\* at deleteTenant: /);
  expect((await handle.describe()).status.name).toBe('RUNNING');
  expect((await emulatorState(stack)).alerts.some((alert) => alert.body.kind === 'deprovisioning_failed' && alert.body.details?.orgId === orgId)).toBe(true);
});
