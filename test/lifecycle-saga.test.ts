/**
 * The install saga and teardown against a real Temporal server, the real worker and receivers, PostgreSQL, and
 * the emulator's partner systems over HTTP.
 */
import { reconciliationWorkflow } from '../workflows/reconciliation';
import { useLifecycleStack } from './fixtures';
import { uniqueId } from './harness/stack';
import { CRM, emit, emulatorState, schemaExists, settledIn, tenantOf } from './lifecycle-support';

const { stack, pool } = useLifecycleStack();

describe('install saga', () => {
  it('provisions tenant, schema and CRM connection for a signed install, and tears them down in the seed order on uninstall', async () => {
    const orgId = uniqueId('org');
    const tenantId = `tenant_${orgId}`;
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
    const active = await settledIn(stack, orgId, 'active');
    expect(active.resources).toMatchObject({ tenant: true, schema: true, crm: true });
    expect(active.compensationsRun).toEqual([]);

    let snapshot = await emulatorState(stack);
    expect(tenantOf(snapshot, tenantId)).toMatchObject({ orgId, integrationId: stack.integrationId, createCount: 1, enabled: true });
    expect(snapshot.crmConnections.find((c) => c.tenantId === tenantId)).toMatchObject({ crmEndpoint: CRM.crmEndpoint });
    expect(await schemaExists(pool, tenantId)).toBe(true);

    await emit(stack, orgId, { event: 'uninstalled' });
    const gone = await settledIn(stack, orgId, 'deprovisioned');
    expect(gone.resources).toMatchObject({ tenant: false, schema: false, crm: false });
    expect(gone.tombstone).toBeDefined();

    snapshot = await emulatorState(stack);
    expect(tenantOf(snapshot, tenantId)).toBeUndefined();
    expect(snapshot.crmConnections.find((c) => c.tenantId === tenantId)).toBeUndefined();
    expect(snapshot.archives.filter((a) => a.orgId === orgId)).toHaveLength(1);
    expect(snapshot.tokens.filter((t) => t.kind === 'integration' && t.orgId === orgId).every((t) => t.revoked)).toBe(true);
    expect(await schemaExists(pool, tenantId)).toBe(false);
  });
});

describe('Edge Case 2: configuration drift after partial failure', () => {
  it('the CRM step fails with a bad secret: tenant and schema compensated, state provisioning_rolled_back, reconciliation retries after the fix', async () => {
    // The CRM now expects another client secret than the one the worker holds.
    await stack.emulator.admin('POST', '/settings', { crmSecret: 'rotated-by-the-crm-admin' });
    const orgId = uniqueId('org-bad-secret');
    const tenantId = `tenant_${orgId}`;
    try {
      await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
      const rolledBack = await settledIn(stack, orgId, 'provisioning_rolled_back');
      expect(rolledBack.lastError).toMatchObject({ step: 'configureCrm' });
      expect(rolledBack.lastError?.message).toContain('CrmSecretRejected');
      // Reverse order; the CRM connection's compensation was registered before its step, so it ran too.
      expect(rolledBack.compensationsRun.map((c) => [c.step, c.outcome])).toEqual([
        ['deleteCrmConnection', 'done'],
        ['dropSchema', 'done'],
        ['deleteTenant', 'done'],
      ]);
      expect(rolledBack.resources).toMatchObject({ tenant: false, schema: false, crm: false });
      expect(rolledBack.lastEvents.at(-1)).toMatchObject({ event: 'installed', outcome: 'rolled_back' });

      const snapshot = await emulatorState(stack);
      expect(tenantOf(snapshot, tenantId)).toBeUndefined();
      expect(snapshot.tenantCreateCounts[tenantId]).toMatchObject({ createCount: 1 });
      expect(snapshot.crmConnections.some((c) => c.tenantId === tenantId)).toBe(false);
      expect(await schemaExists(pool, tenantId)).toBe(false);
      const alert = snapshot.alerts.find((a) => a.body.kind === 'provisioning_rolled_back' && a.body.details?.orgId === orgId);
      expect(alert?.body.text).toContain('configureCrm');
      // The secret itself never reaches the alert.
      expect(JSON.stringify(snapshot.alerts)).not.toContain(stack.secrets.crm);
    } finally {
      // The fix: the CRM accepts the worker's secret again.
      await stack.emulator.admin('POST', '/settings', { crmSecret: stack.secrets.crm });
    }

    const summary = await stack.client.workflow.execute(reconciliationWorkflow, {
      workflowId: uniqueId('reconciliation-test'),
      taskQueue: stack.taskQueue,
      args: [{ integrationId: stack.integrationId, reason: 'test' }],
    });
    expect(summary.repaired).toContainEqual(expect.objectContaining({ orgId, event: 'installed', workflowState: 'provisioning_rolled_back' }));
    const active = await settledIn(stack, orgId, 'active');
    expect(active.lastEvents.at(-1)).toMatchObject({ event: 'installed', source: 'reconciliation', outcome: 'applied' });
    const snapshot = await emulatorState(stack);
    expect(tenantOf(snapshot, tenantId)).toMatchObject({ createCount: 2 });
    expect(snapshot.crmConnections.some((c) => c.tenantId === tenantId)).toBe(true);
    expect(await schemaExists(pool, tenantId)).toBe(true);
  });
});
