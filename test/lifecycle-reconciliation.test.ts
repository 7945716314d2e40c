/**
 * Reconciliation (lifecycle seed, Edge Case 2's "reconciliation job that runs hourly"): drift between what Genesys
 * Cloud lists as installed and the installation workflows is repaired by synthetic events through the same
 * signal path; the schedule exists and is idempotent; the CLI lists, shows and reconciles installations.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureReconciliationSchedule, reconciliationScheduleId } from '../schedules/reconciliation';
import { reconciliationWorkflow } from '../workflows/reconciliation';
import type { ReconciliationSummary } from '../workflows/reconciliation-messages';
import { useLifecycleStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';
import { CRM, emit, emulatorState, installation, schemaExists, settledIn, tenantOf } from './lifecycle-support';

const { stack, pool } = useLifecycleStack({
  beforeClose: (stack) => stack.client.schedule.getHandle(reconciliationScheduleId(stack.taskQueue)).delete().catch(() => undefined),
});

afterEach(async () => {
  await stack.emulator.admin('DELETE', '/faults');
  await stack.emulator.admin('POST', '/webhooks/resume');
});

function reconcile(): Promise<ReconciliationSummary> {
  return stack.client.workflow.execute(reconciliationWorkflow, {
    workflowId: uniqueId('reconciliation-test'),
    taskQueue: stack.taskQueue,
    args: [{ integrationId: stack.integrationId, reason: 'test' }],
  });
}

async function nothingLeftBehind(tenantId: string): Promise<void> {
  const snapshot = await emulatorState(stack);
  expect(tenantOf(snapshot, tenantId)).toBeUndefined();
  expect(snapshot.crmConnections.some((c) => c.tenantId === tenantId)).toBe(false);
  expect(await schemaExists(pool, tenantId)).toBe(false);
}

describe('reconciliation repairs drift', () => {
  it('installed in Genesys Cloud but never provisioned (the install webhook was lost): provisions it, and the late webhook changes nothing', async () => {
    const orgId = uniqueId('org-lost-install');
    const tenantId = `tenant_${orgId}`;
    await stack.emulator.admin('POST', '/webhooks/pause');
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
    expect(await installation(stack, orgId)).toBeUndefined();

    const summary = await reconcile();
    expect(summary.repaired).toContainEqual(expect.objectContaining({ orgId, event: 'installed' }));
    const active = await settledIn(stack, orgId, 'active');
    expect(active.lastEvents[0]).toMatchObject({ source: 'reconciliation', outcome: 'applied' });

    await stack.emulator.admin('POST', '/webhooks/resume');
    const after = await eventually('the late webhook to be handled', async () => {
      const view = await installation(stack, orgId);
      return view && view.lastEvents.length === 2 && view.pendingEvents === 0 ? view : undefined;
    });
    expect(after.lastEvents[1]).toMatchObject({ source: 'webhook', event: 'installed', outcome: 'ignored_stale' });
    expect(after.state).toBe('active');
    expect((await emulatorState(stack)).tenantCreateCounts[tenantId]).toMatchObject({ createCount: 1 });
  });

  it('provisioned but uninstalled in Genesys Cloud (the uninstall webhook was lost): tears it down', async () => {
    const orgId = uniqueId('org-lost-uninstall');
    const tenantId = `tenant_${orgId}`;
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
    await settledIn(stack, orgId, 'active');
    await stack.emulator.admin('POST', '/webhooks/pause');
    await emit(stack, orgId, { event: 'uninstalled' });

    const summary = await reconcile();
    expect(summary.repaired).toContainEqual(expect.objectContaining({ orgId, event: 'uninstalled', workflowState: 'active' }));
    await settledIn(stack, orgId, 'deprovisioned');
    await nothingLeftBehind(tenantId);
  });

  it('deprovisioning_failed (with an alert) is retried by reconciliation until nothing is left', async () => {
    const orgId = uniqueId('org-stuck');
    const tenantId = `tenant_${orgId}`;
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
    await settledIn(stack, orgId, 'active');
    // The middleware refuses the delete (a non-retryable 4xx): teardown stops at that step.
    await stack.emulator.admin('POST', '/faults', { method: 'DELETE', pathPrefix: `/partner/tenants/${tenantId}`, status: 400 });
    await emit(stack, orgId, { event: 'uninstalled' });
    const failed = await settledIn(stack, orgId, 'deprovisioning_failed');
    expect(failed.lastError).toMatchObject({ step: 'deleteTenant' });
    // Earlier steps are done; the tenant and schema are still there.
    expect(failed.resources).toMatchObject({ crm: false, tenant: true, schema: true });
    const snapshot = await emulatorState(stack);
    expect(snapshot.alerts.some((a) => a.body.kind === 'deprovisioning_failed' && a.body.details?.orgId === orgId)).toBe(true);

    await stack.emulator.admin('DELETE', '/faults');
    const summary = await reconcile();
    expect(summary.repaired).toContainEqual(expect.objectContaining({ orgId, event: 'uninstalled', workflowState: 'deprovisioning_failed' }));
    await settledIn(stack, orgId, 'deprovisioned');
    await nothingLeftBehind(tenantId);
  });

  it('leaves aligned installations alone', async () => {
    const orgId = uniqueId('org-aligned');
    await emit(stack, orgId, { event: 'installed', configuration: CRM });
    await settledIn(stack, orgId, 'active');
    const summary = await reconcile();
    expect(summary.repaired.filter((r) => r.orgId === orgId)).toEqual([]);
    expect(summary.checked).toBeGreaterThan(0);
  });
});

describe('reconciliation schedule and CLI', () => {
  it('creates the hourly schedule idempotently and runs it on demand', async () => {
    const id = await ensureReconciliationSchedule(stack.client, stack.config, stack.taskQueue);
    expect(id).toBe(`${stack.taskQueue}:reconciliation`);
    expect(await ensureReconciliationSchedule(stack.client, stack.config, stack.taskQueue)).toBe(id);
    const handle = stack.client.schedule.getHandle(id as string);
    const description = await handle.describe();
    expect(description.spec.intervals?.[0]?.every).toBe(stack.config.lifecycle.reconcileEveryMs);
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reconciliationWorkflow', taskQueue: stack.taskQueue });

    await handle.trigger();
    const run = await eventually('the triggered run to complete', async () => {
      const current = await handle.describe();
      const recent = current.info.recentActions.at(-1);
      if (!recent) return undefined;
      const result = await stack.client.workflow.getHandle(recent.action.workflow.workflowId).result();
      return result as ReconciliationSummary;
    });
    expect(run.integrationId).toBe(stack.integrationId);
  });

  it('tollgate installation list / status / reconcile, with --json and honest exit codes', async () => {
    const orgId = uniqueId('org-cli');
    await emit(stack, orgId, { event: 'installed', configuration: CRM });
    await settledIn(stack, orgId, 'active');
    const home = await mkdtemp(join(tmpdir(), 'tollgate-cli-'));
    const env = { ...process.env, ...stack.env, TOLLGATE_HOME: home, TOLLGATE_INTEGRATION_ID: stack.integrationId, LOG_LEVEL: 'silent' };
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [join(__dirname, '..', 'bin', 'tollgate.js'), ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
      });

    const status = await cli('installation', 'status', `${orgId}/${stack.integrationId}`, '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ orgId, state: 'active', resources: { tenant: true, schema: true, crm: true } });

    const text = await cli('installation', 'status', orgId);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('active');

    const listed = await eventually('the listing to show the org', async () => {
      const result = await cli('installation', 'list', '--state', 'active', '--integration', stack.integrationId, '--json');
      const rows = JSON.parse(result.stdout) as Array<{ orgId: string; state: string }>;
      return rows.some((row) => row.orgId === orgId) ? rows : undefined;
    });
    expect(listed.every((row) => row.state === 'active')).toBe(true);

    const missing = await cli('installation', 'status', `no-such-org/${stack.integrationId}`, '--json');
    expect(missing.code).toBe(3);
    const bad = await cli('installation', 'list', '--state', 'exploded');
    expect(bad.code).toBe(2);

    const reconciled = await cli('installation', 'reconcile', '--json');
    expect(reconciled.code).toBe(0);
    expect(JSON.parse(reconciled.stdout)).toMatchObject({ integrationId: stack.integrationId });
  });
});
