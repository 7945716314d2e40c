/**
 * Lifecycle events are not strictly ordered (the seed's "assuming uninstalled events arrive only after successful
 * installed events" trap): uninstall before install, uninstall during install, resurrection by a stale install, a
 * real re-install, and the seen identities surviving continue-as-new.
 */
import { signalInstallation } from '../client/installations';
import { TollgateIntegration, TollgateKind, TollgateOrg, TollgateState } from '../platform/search-attributes';
import { LifecyclePayloadSchema, toInstallationEvent } from '../receivers/lifecycle-event';
import { installationWorkflow } from '../workflows/installation';
import { installationWorkflowId } from '../workflows/workflow-ids';
import { useLifecycleStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';
import { CRM, emit, emulatorState, installation, lifecyclePayload, postSigned, schemaExists, settledIn, tenantOf } from './lifecycle-support';

const { stack, pool } = useLifecycleStack();

afterEach(async () => {
  await stack.emulator.admin('DELETE', '/faults');
});

async function nothingLeftBehind(orgId: string, tenantId: string): Promise<void> {
  const snapshot = await emulatorState(stack);
  expect(tenantOf(snapshot, tenantId)).toBeUndefined();
  expect(snapshot.crmConnections.some((c) => c.tenantId === tenantId)).toBe(false);
  expect(await schemaExists(pool, tenantId)).toBe(false);
  expect(snapshot.tokens.filter((t) => t.kind === 'integration' && t.orgId === orgId).every((t) => t.revoked)).toBe(true);
}

describe('trap: uninstall before install', () => {
  it('an uninstall delivered before its install leaves nothing behind, the late install does not resurrect the tenant, and a real re-install provisions again', async () => {
    const orgId = uniqueId('org-early-uninstall');
    const tenantId = `tenant_${orgId}`;
    // The install (sequence 1) is held back; the uninstall (sequence 2) overtakes it.
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM, delayMs: 1500 });
    await emit(stack, orgId, { event: 'uninstalled' });

    const view = await eventually('the late install to be ignored', async () => {
      const current = await installation(stack, orgId);
      return current && current.pendingEvents === 0 && current.lastEvents.length === 2 ? current : undefined;
    });
    expect(view.state).toBe('deprovisioned');
    expect(view.lastEvents.map((e) => [e.event, e.sequence, e.outcome])).toEqual([
      ['uninstalled', 2, 'applied'],
      ['installed', 1, 'ignored_stale'],
    ]);
    expect(view.tombstone).toMatchObject({ sequence: 2 });
    await nothingLeftBehind(orgId, tenantId);
    expect((await emulatorState(stack)).tenantCreateCounts[tenantId]).toBeUndefined();

    // A genuine re-install later (sequence 3) provisions again.
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
    const again = await settledIn(stack, orgId, 'active');
    expect(again.resources).toMatchObject({ tenant: true, schema: true, crm: true });
    expect((await emulatorState(stack)).tenantCreateCounts[tenantId]).toMatchObject({ createCount: 1 });
    expect(await schemaExists(pool, tenantId)).toBe(true);
  });
});

describe('trap: uninstall during install', () => {
  it('an uninstall that arrives while the saga runs waits for it, then tears everything down; nothing left, no resurrection', async () => {
    // The CRM step (the saga's last) is slow, so the uninstall lands mid-saga.
    await stack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: '/partner/crm/connections', latencyMs: 2500 });
    const orgId = uniqueId('org-mid-saga');
    const tenantId = `tenant_${orgId}`;
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
    await eventually('the saga to be mid-way (tenant created, still provisioning)', async () => {
      const view = await installation(stack, orgId);
      return view?.state === 'provisioning' && view.resources.tenant;
    });
    await emit(stack, orgId, { event: 'uninstalled' });

    const done = await settledIn(stack, orgId, 'deprovisioned');
    expect(done.lastEvents.map((e) => [e.event, e.outcome])).toEqual([
      ['installed', 'applied'],
      ['uninstalled', 'applied'],
    ]);
    await nothingLeftBehind(orgId, tenantId);
    const snapshot = await emulatorState(stack);
    expect(snapshot.archives.filter((a) => a.orgId === orgId)).toHaveLength(1);

    // A stale copy of the install (same sequence, retry metadata) and an older install with another identity
    // arrive after the uninstall: neither resurrects the tenant.
    const staleRetry = lifecyclePayload(stack, orgId, 'installed', { tenantId, configuration: CRM, sequence: 1 });
    const retryResponse = await postSigned(stack, { ...staleRetry, metadata: { installedBy: `admin@${orgId}`, source: 'marketplace', sequence: 1 }, retryCount: 5 });
    expect(retryResponse.status).toBeLessThan(300);
    const olderInstall = await postSigned(stack, lifecyclePayload(stack, orgId, 'installed', { tenantId, configuration: { crmEndpoint: 'https://old.example' }, sequence: 1 }));
    expect(olderInstall.status).toBe(202);
    const final = await eventually('the stale installs to be handled', async () => {
      const view = await installation(stack, orgId);
      return view && view.pendingEvents === 0 && view.lastEvents.length >= 3 ? view : undefined;
    });
    expect(final.state).toBe('deprovisioned');
    expect(final.lastEvents.slice(2).map((e) => e.outcome).every((outcome) => outcome === 'duplicate' || outcome === 'ignored_stale')).toBe(true);
    await nothingLeftBehind(orgId, tenantId);
    expect((await emulatorState(stack)).tenantCreateCounts[tenantId]).toEqual({ createCount: 1, createAttempts: 1 });
  });
});

describe('seen identities', () => {
  it('survive continue-as-new: a redelivery after the workflow continued as new is still a duplicate', async () => {
    const orgId = uniqueId('org-can');
    const tenantId = `tenant_${orgId}`;
    const workflowId = installationWorkflowId(orgId, stack.integrationId);
    // Started by hand with a tiny threshold, so the run continues as new after two events.
    const handle = await stack.client.workflow.start(installationWorkflow, {
      workflowId,
      taskQueue: stack.taskQueue,
      args: [{ orgId, integrationId: stack.integrationId, continueAsNewAfterEvents: 2 }],
      typedSearchAttributes: [
        { key: TollgateKind, value: 'installation' },
        { key: TollgateOrg, value: orgId },
        { key: TollgateIntegration, value: stack.integrationId },
        { key: TollgateState, value: 'pending_install' },
      ],
    });
    const firstRunId = handle.firstExecutionRunId;
    const install = lifecyclePayload(stack, orgId, 'installed', { tenantId, configuration: CRM, sequence: 1 });
    await postSigned(stack, install);
    await postSigned(stack, lifecyclePayload(stack, orgId, 'configuration_updated', { tenantId, configuration: { ...CRM, syncInterval: 'PT1M' }, sequence: 2 }));
    await postSigned(stack, lifecyclePayload(stack, orgId, 'configuration_updated', { tenantId, configuration: { ...CRM, syncInterval: 'PT2M' }, sequence: 3 }));
    await eventually('the workflow to continue as new', async () => {
      const description = await stack.client.workflow.getHandle(workflowId).describe();
      const view = await installation(stack, orgId);
      return description.runId !== firstRunId && view?.pendingEvents === 0 && view.eventsProcessed === 3;
    });

    // The receiver would answer from its own memory; go straight to the workflow, as a second receiver would.
    const redelivery = LifecyclePayloadSchema.parse({ ...install, retryCount: 2, deliveryAttempt: 3, eventTimestamp: new Date().toISOString() });
    await signalInstallation(stack.client, stack.taskQueue, toInstallationEvent(redelivery, new Date()));
    const view = await eventually('the redelivery to be recognised', async () => {
      const current = await installation(stack, orgId);
      return current?.lastEvents.at(-1)?.outcome === 'duplicate' ? current : undefined;
    });
    expect(view.state).toBe('active');
    expect(view.seenIdentities).toBe(3);
    expect(view.configuration).toMatchObject({ syncInterval: 'PT2M' });
    expect((await emulatorState(stack)).tenantCreateCounts[tenantId]).toEqual({ createCount: 1, createAttempts: 1 });
  });
});
