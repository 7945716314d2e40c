/**
 * The durable inventory (issue 9): `tollgate.installations` follows each installation workflow, and a fresh run —
 * after an operator terminated the workflow — continues from it: an old install cannot resurrect anything, and a
 * later uninstall still tears down exactly what was provisioned.
 */
import { signalInstallation } from '../client/installations';
import { LifecyclePayloadSchema, toInstallationEvent } from '../receivers/lifecycle-event';
import { installationWorkflowId } from '../workflows/workflow-ids';
import { useLifecycleStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';
import { CRM, deliveriesFor, emit, emulatorState, installation, schemaExists, settledIn, tenantOf } from './lifecycle-support';

const { stack, pool } = useLifecycleStack();

async function inventoryRow(orgId: string): Promise<Record<string, unknown> | undefined> {
  const result = await pool.query('SELECT * FROM tollgate.installations WHERE org_id = $1 AND integration_id = $2', [orgId, stack.integrationId]);
  return result.rows[0] as Record<string, unknown> | undefined;
}

async function terminate(orgId: string): Promise<string> {
  const handle = stack.client.workflow.getHandle(installationWorkflowId(orgId, stack.integrationId));
  const { runId } = await handle.describe();
  await handle.terminate('an operator terminated a stuck installation');
  return runId;
}

describe('a fresh run continues from the inventory', () => {
  it('terminate an active installation, then an old duplicate install and a new uninstall: no resurrection, clean teardown', async () => {
    const orgId = uniqueId('org-terminated');
    const tenantId = `tenant_${orgId}`;
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
    await settledIn(stack, orgId, 'active');
    expect(await inventoryRow(orgId)).toMatchObject({ state: 'active', generation: 1, tenant_id: tenantId, task_queue: stack.taskQueue });
    expect((await inventoryRow(orgId))?.resources).toMatchObject({ tenant: true, schema: true, crm: true });

    // The install as Genesys Cloud first delivered it: redelivered later with retry metadata.
    const original = deliveriesFor(await emulatorState(stack), orgId)[0].body;
    const redeliver = (retryCount: number) =>
      signalInstallation(
        stack.client,
        stack.taskQueue,
        toInstallationEvent(LifecyclePayloadSchema.parse({ ...original, retryCount, deliveryAttempt: retryCount + 1 }), new Date()),
      );

    const firstRun = await terminate(orgId);
    await redeliver(3);
    const restored = await eventually('a fresh run to handle the old install', async () => {
      const view = await installation(stack, orgId);
      return view && view.pendingEvents === 0 && view.lastEvents.length === 1 ? view : undefined;
    });
    expect((await stack.client.workflow.getHandle(installationWorkflowId(orgId, stack.integrationId)).describe()).runId).not.toBe(firstRun);
    expect(restored).toMatchObject({ state: 'active', generation: 1, tenantId, resources: { tenant: true, schema: true, crm: true } });
    expect(restored.lastEvents[0]).toMatchObject({ event: 'installed', outcome: 'ignored_stale' });
    expect((await emulatorState(stack)).tenantCreateCounts[tenantId]).toEqual({ createCount: 1, createAttempts: 1 });

    // A new uninstall tears down what the first run provisioned.
    await emit(stack, orgId, { event: 'uninstalled' });
    const gone = await settledIn(stack, orgId, 'deprovisioned');
    expect(gone.resources).toMatchObject({ tenant: false, schema: false, crm: false });
    let snapshot = await emulatorState(stack);
    expect(tenantOf(snapshot, tenantId)).toBeUndefined();
    expect(snapshot.crmConnections.some((c) => c.tenantId === tenantId)).toBe(false);
    expect(snapshot.archives.filter((a) => a.tenantId === tenantId)).toHaveLength(1);
    expect(await schemaExists(pool, tenantId)).toBe(false);
    expect(await inventoryRow(orgId)).toMatchObject({ state: 'deprovisioned', tenant_id: tenantId });
    expect((await inventoryRow(orgId))?.tombstone).toMatchObject({ sequence: 2 });

    // Terminated again, after the uninstall: the old install still cannot resurrect the tenant.
    await terminate(orgId);
    await redeliver(4);
    const still = await eventually('the next fresh run to handle the old install', async () => {
      const view = await installation(stack, orgId);
      return view && view.pendingEvents === 0 && view.lastEvents.length === 1 ? view : undefined;
    });
    expect(still).toMatchObject({ state: 'deprovisioned', tombstone: { sequence: 2 } });
    expect(still.lastEvents[0]).toMatchObject({ event: 'installed', outcome: 'ignored_stale' });
    snapshot = await emulatorState(stack);
    expect(tenantOf(snapshot, tenantId)).toBeUndefined();
    expect(snapshot.tenantCreateCounts[tenantId]).toEqual({ createCount: 1, createAttempts: 1 });
    expect(await schemaExists(pool, tenantId)).toBe(false);

    // A genuine re-install later starts the next generation.
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
    expect(await settledIn(stack, orgId, 'active')).toMatchObject({ generation: 2 });
    expect(await inventoryRow(orgId)).toMatchObject({ state: 'active', generation: 2 });
  });
});
