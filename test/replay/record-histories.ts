/**
 * Records real histories of Tollgate's long-lived workflows in the states that matter for a code upgrade, as replay
 * fixtures under test/replay/histories/ (docs/operations.md, "Deploying new workflow code"). Not part of `npm test`:
 * run `npm run record-histories` deliberately, when a release drops support for histories older than the ones
 * committed (see the policy in docs/decisions.md), and commit the result.
 *
 *   installation   install → configuration update → uninstall → re-install, across a continue-as-new (both runs)
 *   target         an object's lock with a holder mid-deploy and two changes queued, and its ledger
 *   change         one waiting for approval; one mid-deploy (its write in flight); one deployed and audited
 *   audit          an approved version; a drift with its revert
 *   heartbeat, reconciliation   one run each
 *   event-delivery the Jira adapter's delivery loop after it opened, commented and closed a change's ticket
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { runReconciliation, signalInstallation } from '../../client/installations';
import { TollgateIntegration, TollgateKind, TollgateOrg, TollgateState } from '../../platform/search-attributes';
import { LifecyclePayloadSchema, toInstallationEvent } from '../../receivers/lifecycle-event';
import { heartbeatWorkflow } from '../../workflows/heartbeat';
import { installationWorkflow } from '../../workflows/installation';
import { auditWorkflowId, eventDeliveryWorkflowId, installationWorkflowId, targetWorkflowId } from '../../workflows/workflow-ids';
import { activityInFlight, approveBy, planned, readObject, seedObject, submit, waitForState } from '../change-gate-support';
import { useTestStack } from '../fixtures';
import { eventually, uniqueId } from '../harness/stack';
import { CRM, installation, lifecyclePayload } from '../lifecycle-support';

export const HISTORIES_DIR = join(__dirname, 'histories');

const stack = useTestStack({ jira: true, env: { TOLLGATE_TARGETS: JSON.stringify({ ivr: { onDrift: 'revert' } }), TOLLGATE_JIRA_TARGETS: 'ticketed/*' } });

/** The history as `temporal workflow show --output json` writes it: the format Temporal's docs give for replay. */
async function save(name: string, handle: WorkflowHandle, runId?: string): Promise<void> {
  const binary = process.env.TOLLGATE_TEMPORAL_BIN as string;
  const args = ['workflow', 'show', '--address', stack.config.temporal.address as string, '--workflow-id', handle.workflowId, '--output', 'json'];
  if (runId) args.push('--run-id', runId);
  const { stdout } = await promisify(execFile)(binary, args, { maxBuffer: 64 * 1024 * 1024 });
  mkdirSync(HISTORIES_DIR, { recursive: true });
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), stdout.endsWith('\n') ? stdout : `${stdout}\n`);
}

describe('recording replay fixtures', () => {
  it('records an installation across install, update, uninstall, re-install and a continue-as-new', async () => {
    const orgId = uniqueId('org-replay');
    const tenantId = `tenant_${orgId}`;
    const handle = await stack.client.workflow.start(installationWorkflow, {
      workflowId: installationWorkflowId(orgId, stack.integrationId),
      taskQueue: stack.taskQueue,
      args: [{ orgId, integrationId: stack.integrationId, continueAsNewAfterEvents: 3 }],
      typedSearchAttributes: [
        { key: TollgateKind, value: 'installation' },
        { key: TollgateOrg, value: orgId },
        { key: TollgateIntegration, value: stack.integrationId },
        { key: TollgateState, value: 'pending_install' },
      ],
    });
    const send = async (event: Parameters<typeof lifecyclePayload>[2], sequence: number, configuration = CRM) => {
      const payload = LifecyclePayloadSchema.parse(lifecyclePayload(stack, orgId, event, { tenantId, configuration, sequence }));
      await signalInstallation(stack.client, stack.taskQueue, toInstallationEvent(payload, new Date()));
      await eventually(`${event} #${sequence} applied`, async () => (await installation(stack, orgId))?.pendingEvents === 0 && true, 60_000);
    };
    await send('installed', 1);
    await send('configuration_updated', 2, { ...CRM, syncInterval: 'PT1M' });
    await send('uninstalled', 3);
    await send('installed', 4);
    const view = await eventually('re-installed', async () => {
      const current = await installation(stack, orgId);
      return current?.state === 'active' && current.pendingEvents === 0 ? current : undefined;
    });
    expect(view.tenantId).toBe(tenantId);
    const described = await handle.describe();
    expect(described.runId).not.toBe(handle.firstExecutionRunId);
    await save('installation-before-continue-as-new', handle, handle.firstExecutionRunId);
    await save('installation-after-reinstall', stack.client.workflow.getHandle(handle.workflowId, described.runId));
  });

  it('records a change awaiting approval, a change mid-deploy, the target with its queue, and a finished change with its audit', async () => {
    const waiting = await submit(stack, { target: await seedObject(stack, 'ivr', { greeting: 'Hi' }), desired: { greeting: 'Hello' }, requester: 'alice' });
    await planned(waiting);
    await save('change-awaiting-approval', waiting);

    // A finished change: deployed, verified, audited by the webhook; its target's ledger records the version.
    const done = await submit(stack, { target: await seedObject(stack, 'ivr', { greeting: 'Hi' }), desired: { greeting: 'Hello' }, requester: 'alice' });
    await planned(done);
    await approveBy(stack, done, ['bob', 'carol']);
    const audited = await waitForState(done, ['audited']);
    await save('change-audited', done);
    await save('audit-approved', stack.client.workflow.getHandle(auditWorkflowId(audited.target, audited.deploy!.writtenVersion!)));

    // Drift on that object: an edit in the UI, audited as drift and reverted (policy `revert` for ivr).
    await stack.emulator.admin('POST', `/objects/ivr/${audited.target.id}/ui-edit`, { fields: { greeting: 'Edited in the UI' } });
    const driftVersion = (await readObject(stack, audited.target)).version;
    const drift = stack.client.workflow.getHandle(auditWorkflowId(audited.target, driftVersion));
    await eventually('the drift audit to finish', async () => (await drift.describe()).status.name === 'COMPLETED');
    await save('audit-drift-reverted', drift);

    // Mid-deploy: the holder's write is slow; two more approved changes wait in the object's queue.
    const target = await seedObject(stack, 'ivr', { greeting: 'Hi', queue: 'general' });
    await stack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: `/api/v2/configuration/ivr/${target.id}`, latencyMs: 8000, count: 1 });
    const first = await submit(stack, { target, desired: { greeting: 'One' }, requester: 'alice' });
    const second = await submit(stack, { target, desired: { queue: 'vip' }, requester: 'alice' });
    const third = await submit(stack, { target, desired: { greeting: 'One', queue: 'vip' }, requester: 'dave' });
    for (const handle of [first, second, third]) await planned(handle);
    await approveBy(stack, first, ['bob', 'carol']);
    await activityInFlight(first, 'writeConfigObject');
    await approveBy(stack, second, ['bob', 'carol']);
    await approveBy(stack, third, ['bob', 'carol']);
    const targetHandle = stack.client.workflow.getHandle(targetWorkflowId(target));
    await eventually('two changes queued behind the holder', async () => {
      const history = await targetHandle.fetchHistory();
      // Each change asks for the lock with the acquireLock update.
      const asked = (history.events ?? []).filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'acquireLock');
      return asked.length >= 3;
    });
    await save('change-mid-deploy', first);
    await save('target-with-queue', targetHandle);
    for (const handle of [first, second, third]) await waitForState(handle, ['deployed', 'audited', 'diverged']);
    await stack.emulator.admin('DELETE', '/faults');
  });

  it('records a heartbeat run and a reconciliation run', async () => {
    const heartbeat = await stack.client.workflow.start(heartbeatWorkflow, { workflowId: uniqueId('heartbeat-replay'), taskQueue: stack.taskQueue, args: [] });
    await heartbeat.result();
    await save('heartbeat', heartbeat);
    const summary = await runReconciliation(stack.client, stack.taskQueue, { integrationId: stack.integrationId });
    expect(summary.integrations.map((entry) => entry.integrationId)).toContain(stack.integrationId);
    const [latest] = await Promise.all([
      (async () => {
        for await (const execution of stack.client.workflow.list({ query: `WorkflowType = 'reconciliationWorkflow' AND TaskQueue = '${stack.taskQueue}'` })) {
          return stack.client.workflow.getHandle(execution.workflowId, execution.runId);
        }
        return undefined;
      })(),
    ]);
    expect(latest).toBeDefined();
    await save('reconciliation', latest!);
  });

  it('records the Jira adapter\'s delivery loop after a change\'s ticket was opened, commented and closed', async () => {
    const done = await submit(stack, { target: await seedObject(stack, 'ticketed', { greeting: 'Hi' }), desired: { greeting: 'Hello' }, requester: 'alice' });
    const { changeId } = await planned(done);
    await approveBy(stack, done, ['bob', 'carol']);
    await waitForState(done, ['audited']);
    await eventually('the ticket to be closed', async () => {
      const { issues } = await stack.emulator.admin<{ issues: Array<{ labels: string[]; status: string }> }>('GET', '/jira/issues');
      return issues.some((issue) => issue.labels.includes(`tollgate-change-${changeId}`) && issue.status === 'Done');
    });
    await save('event-delivery-jira', stack.client.workflow.getHandle(eventDeliveryWorkflowId(stack.taskQueue, 'jira')));
  });
});
