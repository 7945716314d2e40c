/**
 * Reconciliation (lifecycle seed, Edge Case 2's "reconciliation job that runs hourly"): drift between what Genesys
 * Cloud lists as installed and the installation workflows is repaired by synthetic events through the same
 * signal path; the schedule exists and is idempotent; the CLI lists, shows and reconciles installations.
 */
import { execFile } from 'node:child_process';
import { createLifecycleActivities } from '../activities/lifecycle';
import { describeInstallation } from '../client/installations';
import { createLogger } from '../platform/logger';
import { buildActivityDeps } from '../worker';
import { LIFECYCLE_EVENTS, type InstallationStateName } from '../workflows/installation-messages';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureReconciliationSchedule, reconciliationScheduleId } from '../schedules/reconciliation';
import { reconciliationWorkflow } from '../workflows/reconciliation';
import type { ReconciliationSummary } from '../workflows/reconciliation-messages';
import { useLifecycleStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';
import { CRM, emit, emulatorState, installation, lifecyclePayload, postSigned, schemaExists, settledIn, tenantOf } from './lifecycle-support';

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
    // The alert is the step after the state is recorded: it may still be on its way.
    await eventually('the deprovisioning_failed alert', async () =>
      (await emulatorState(stack)).alerts.some((a) => a.body.kind === 'deprovisioning_failed' && a.body.details?.orgId === orgId),
    );

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

/** `tollgate …` against this stack, in its own process. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = await mkdtemp(join(tmpdir(), 'tollgate-cli-'));
  const env = { ...process.env, ...stack.env, TOLLGATE_HOME: home, LOG_LEVEL: 'silent' };
  return new Promise((resolve) => {
    execFile(process.execPath, [join(__dirname, '..', 'bin', 'tollgate.js'), ...args], { env, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('reconciliation that cannot do harm (issue 9)', () => {
  it('a listing that comes back empty with many active installations: nothing deprovisioned, an alert, and --confirm proceeds', async () => {
    // A second integration, wired to the same receivers and not configured anywhere: reconciliation still covers it
    // because it has installations (every integration is reconciled, not only TOLLGATE_INTEGRATION_ID).
    const other = uniqueId('integration-other');
    await stack.genesys.putIntegrationWebhooks(other, {
      url: `${stack.receiversUrl}/v1/genesys/lifecycle`,
      events: [...LIFECYCLE_EVENTS],
      retryPolicy: { maxRetries: 5, initialDelayMs: 200, backoffMultiplier: 2 },
      timeoutMs: 3000,
      secret: stack.secrets.lifecycle,
    });
    const orgs = Array.from({ length: 5 }, () => uniqueId('org-empty-listing'));
    const stateOf = async (orgId: string): Promise<InstallationStateName | undefined> => (await describeInstallation(stack.client, orgId, other))?.state;
    const allIn = (state: InstallationStateName) =>
      eventually(`all five in ${state}`, async () => (await Promise.all(orgs.map(stateOf))).every((current) => current === state));
    for (const orgId of orgs) {
      await stack.emulator.admin('POST', `/integrations/${other}/orgs/${orgId}/events`, { event: 'installed', tenantId: `tenant_${orgId}`, configuration: CRM });
    }
    await allIn('active');

    // Genesys Cloud now lists none of them (as an emptied sandbox would), and no uninstall webhook arrives.
    await stack.emulator.admin('POST', '/webhooks/pause');
    for (const orgId of orgs) await stack.emulator.admin('POST', `/integrations/${other}/orgs/${orgId}/events`, { event: 'uninstalled' });

    const summary = await stack.client.workflow.execute(reconciliationWorkflow, {
      workflowId: uniqueId('reconciliation-test'),
      taskQueue: stack.taskQueue,
      args: [{ reason: 'test' }],
    });
    const part = summary.integrations.find((result) => result.integrationId === other);
    expect(summary.integrations.map((result) => result.integrationId)).toEqual(expect.arrayContaining([stack.integrationId, other]));
    expect(part).toMatchObject({ installedInGenesys: 0, activeInstallations: 5, repaired: [], heldReason: expect.stringContaining('all 5 active installations') });
    expect(part?.held.map((repair) => repair.orgId).sort()).toEqual([...orgs].sort());
    expect(summary.confirmed).toBe(false);
    // Nothing deprovisioned …
    expect((await Promise.all(orgs.map(stateOf))).every((state) => state === 'active')).toBe(true);
    const snapshot = await emulatorState(stack);
    for (const orgId of orgs) expect(tenantOf(snapshot, `tenant_${orgId}`)).toMatchObject({ enabled: true, streamsEnabled: true });
    // … and an alert says what is held and how to proceed.
    const alert = snapshot.alerts.find((a) => a.body.kind === 'reconciliation_held' && a.body.details?.integrationId === other);
    expect(alert?.body.text).toContain('--confirm');
    expect(alert?.body.details).toMatchObject({ held: 5, activeInstallations: 5 });

    // The operator checked Genesys Cloud: they really are gone. --confirm proceeds.
    const confirmed = await cli('installation', 'reconcile', '--integration', other, '--confirm', '--json');
    expect(confirmed.code).toBe(0);
    const result = JSON.parse(confirmed.stdout) as typeof summary;
    expect(result.confirmed).toBe(true);
    expect(result.held).toEqual([]);
    expect(result.repaired.map((repair) => `${repair.orgId}:${repair.event}`).sort()).toEqual(orgs.map((orgId) => `${orgId}:uninstalled`).sort());
    await allIn('deprovisioned');
    const after = await emulatorState(stack);
    for (const orgId of orgs) {
      expect(tenantOf(after, `tenant_${orgId}`)).toBeUndefined();
      expect(await schemaExists(pool, `tenant_${orgId}`)).toBe(false);
    }
  });

  it('an uninstall that arrives between the listing and the synthetic install wins: the installation stays deprovisioned', async () => {
    const orgId = uniqueId('org-between');
    const tenantId = `tenant_${orgId}`;
    // Genesys Cloud records the install; its webhook is lost.
    await stack.emulator.admin('POST', '/webhooks/pause');
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });

    // Reconciliation's two steps, run as its workflow runs them, with the uninstall in between.
    const logger = createLogger({ level: 'silent' });
    const deps = buildActivityDeps({ config: stack.config, logger, temporal: stack.client, databaseUrl: stack.databaseUrl });
    const activities = createLifecycleActivities(deps);
    try {
      const drift = await activities.findInstallationDrift({ integrationId: stack.integrationId });
      const repairs = drift.repairs.filter((repair) => repair.orgId === orgId);
      expect(repairs.map((repair) => repair.event)).toEqual(['installed']);

      // The admin uninstalls right after the listing was taken; this webhook does arrive.
      const uninstall = await postSigned(stack, lifecyclePayload(stack, orgId, 'uninstalled', { tenantId, sequence: 2 }));
      expect(uninstall.status).toBe(202);
      await settledIn(stack, orgId, 'deprovisioned');

      await activities.sendSyntheticLifecycleEvents({ runId: uniqueId('run'), observedAt: drift.observedAt, repairs });
      const view = await eventually('the synthetic install to be handled', async () => {
        const current = await installation(stack, orgId);
        return current && current.pendingEvents === 0 && current.lastEvents.length === 2 ? current : undefined;
      });
      expect(view.state).toBe('deprovisioned');
      expect(view.lastEvents[1]).toMatchObject({ source: 'reconciliation', event: 'installed', outcome: 'ignored_stale', eventTimestamp: drift.observedAt });
      expect((await emulatorState(stack)).tenantCreateCounts[tenantId]).toBeUndefined();
      expect(await schemaExists(pool, tenantId)).toBe(false);
    } finally {
      await deps.genesys.close();
    }
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
    expect(run.integrations.map((result) => result.integrationId)).toContain(stack.integrationId);
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
    expect(JSON.parse(reconciled.stdout)).toMatchObject({ integrations: expect.arrayContaining([expect.objectContaining({ integrationId: stack.integrationId })]) });
  });
});
