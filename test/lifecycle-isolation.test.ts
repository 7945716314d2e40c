/**
 * Installations cannot hurt each other (issue 9), against a real Temporal server, the receivers, PostgreSQL and the
 * emulator over HTTP: the ID grammar (400 before any workflow is touched), workflow IDs that two installations can
 * never share, and the CLI's two ways of naming an installation.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { quoteIdentifier, schemaNameForTenant } from '../activities/provisioning/database-schema';
import { useLifecycleStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';
import { CRM, emit, emulatorState, installation, lifecyclePayload, postSigned, schemaExists, settledIn, tenantOf } from './lifecycle-support';

const { stack, pool } = useLifecycleStack();

/** Whether any workflow exists under the ID naive concatenation would give (no grammar check on this side). */
async function workflowExists(workflowId: string): Promise<boolean> {
  try {
    await stack.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

describe('ownership before every destructive step', () => {
  it("an uninstall for one org never touches another org's tenant, CRM connection or schema", async () => {
    const orgA = uniqueId('org-a');
    const orgB = uniqueId('org-b');
    const tenantA = `tenant_${orgA}`;
    const tenantB = `tenant_${orgB}`;
    await emit(stack, orgA, { event: 'installed', tenantId: tenantA, configuration: CRM });
    await emit(stack, orgB, { event: 'installed', tenantId: tenantB, configuration: { ...CRM, crmEndpoint: 'https://b.example' } });
    await settledIn(stack, orgA, 'active');
    await settledIn(stack, orgB, 'active');

    // Org B's correctly signed uninstall carries A's tenant ID.
    await emit(stack, orgB, { event: 'uninstalled', tenantId: tenantA });
    const b = await settledIn(stack, orgB, 'deprovisioned');
    expect(b.lastEvents.at(-1)).toMatchObject({ event: 'uninstalled', outcome: 'applied', detail: expect.stringContaining(`tenant ${tenantB}`) });

    const snapshot = await emulatorState(stack);
    // B's own resources are gone …
    expect(tenantOf(snapshot, tenantB)).toBeUndefined();
    expect(await schemaExists(pool, tenantB)).toBe(false);
    // … A's are intact, and A is still active.
    expect(tenantOf(snapshot, tenantA)).toMatchObject({ orgId: orgA, enabled: true, streamsEnabled: true });
    expect(snapshot.crmConnections.find((c) => c.tenantId === tenantA)).toMatchObject({ crmEndpoint: CRM.crmEndpoint });
    expect(await schemaExists(pool, tenantA)).toBe(true);
    expect((await installation(stack, orgA))?.state).toBe('active');
    expect(snapshot.archives.some((archive) => archive.tenantId === tenantA)).toBe(false);

    // An alert names both installations.
    const alert = snapshot.alerts.find((a) => a.body.kind === 'foreign_tenant_in_event' && a.body.details?.orgId === orgB);
    expect(alert?.body.text).toContain(`installation ${orgB}/${stack.integrationId}`);
    expect(alert?.body.text).toContain(`installation ${orgA}/${stack.integrationId}`);
    expect(alert?.body.details).toMatchObject({ eventTenantId: tenantA, ownedBy: { tenant: { orgId: orgA }, schema: { orgId: orgA }, crm: { orgId: orgA } } });
  });

  it('an install that names another org\'s tenant is rolled back without adopting it, and that org\'s uninstall then touches nothing of it', async () => {
    const orgA = uniqueId('org-a');
    const orgC = uniqueId('org-c');
    const tenantA = `tenant_${orgA}`;
    await emit(stack, orgA, { event: 'installed', tenantId: tenantA, configuration: CRM });
    await settledIn(stack, orgA, 'active');

    await emit(stack, orgC, { event: 'installed', tenantId: tenantA, configuration: { crmEndpoint: 'https://evil.example' } });
    const rolledBack = await settledIn(stack, orgC, 'provisioning_rolled_back');
    expect(rolledBack.lastError).toMatchObject({ step: 'createTenant', message: expect.stringContaining('TenantOwnedByAnotherInstallation') });
    // The foreign tenant is not recorded, and the compensation left it alone.
    expect(rolledBack.tenantId).toBeUndefined();
    expect(rolledBack.compensationsRun.map((c) => [c.step, c.outcome])).toEqual([['deleteTenant', 'refused']]);
    // The state is published before the alert's activity has run: wait for the alert itself.
    const rollbackAlert = await eventually('the provisioning_rolled_back alert', async () =>
      (await emulatorState(stack)).alerts.find((a) => a.body.kind === 'provisioning_rolled_back' && a.body.details?.orgId === orgC),
    );
    expect(rollbackAlert.body.details).toMatchObject({ ownedBy: { orgId: orgA, integrationId: stack.integrationId } });

    await emit(stack, orgC, { event: 'uninstalled', tenantId: tenantA });
    await settledIn(stack, orgC, 'deprovisioned');
    const snapshot = await emulatorState(stack);
    expect(tenantOf(snapshot, tenantA)).toMatchObject({ orgId: orgA, enabled: true, streamsEnabled: true, createCount: 1 });
    expect(snapshot.crmConnections.find((c) => c.tenantId === tenantA)).toMatchObject({ crmEndpoint: CRM.crmEndpoint });
    expect(await schemaExists(pool, tenantA)).toBe(true);
    expect((await installation(stack, orgA))?.state).toBe('active');
    expect(snapshot.alerts.some((a) => a.body.kind === 'foreign_tenant_in_event' && a.body.details?.orgId === orgC)).toBe(true);
  });
});

describe('a schema that exists and belongs to someone else', () => {
  it('fails the install instead of being reused; the rollback removes only what the failed install created', async () => {
    const orgA = uniqueId('org-a');
    const orgC = uniqueId('org-c');
    const tenantId = `tenant_${orgA}`;
    await emit(stack, orgA, { event: 'installed', tenantId, configuration: CRM });
    await settledIn(stack, orgA, 'active');
    // A's middleware tenant disappears out of band; A's schema stays.
    await fetch(`${stack.emulator.url}/partner/tenants/${tenantId}`, { method: 'DELETE' });

    await emit(stack, orgC, { event: 'installed', tenantId, configuration: CRM });
    const c = await settledIn(stack, orgC, 'provisioning_rolled_back');
    expect(c.lastError).toMatchObject({ step: 'createSchema', message: expect.stringContaining('SchemaOwnedByAnotherInstallation') });
    expect(c.compensationsRun.map((entry) => [entry.step, entry.outcome])).toEqual([
      ['dropSchema', 'refused'],
      ['deleteTenant', 'done'],
    ]);
    expect(c.tenantId).toBeUndefined();
    expect(await schemaExists(pool, tenantId)).toBe(true);
    const owner = await pool.query(`SELECT org_id FROM ${quoteIdentifier(schemaNameForTenant(tenantId))}.tenant_info`);
    expect(owner.rows).toEqual([{ org_id: orgA }]);
    // C's own tenant (created by the failed install) is gone again.
    expect(tenantOf(await emulatorState(stack), tenantId)).toBeUndefined();
  });
});

describe('a refused teardown', () => {
  it('when the tenant an installation provisioned now belongs to another installation, its uninstall refuses to touch it and alerts naming both', async () => {
    const orgA = uniqueId('org-a');
    const orgC = uniqueId('org-c');
    const tenantId = `tenant_${orgA}`;
    await emit(stack, orgA, { event: 'installed', tenantId, configuration: CRM });
    await settledIn(stack, orgA, 'active');

    // Out of band, someone removes A's resources (no owner named), and org C then provisions the same tenant ID.
    await fetch(`${stack.emulator.url}/partner/crm/connections/${tenantId}`, { method: 'DELETE' });
    await fetch(`${stack.emulator.url}/partner/tenants/${tenantId}`, { method: 'DELETE' });
    await pool.query(`DROP SCHEMA ${quoteIdentifier(schemaNameForTenant(tenantId))} CASCADE`);
    await emit(stack, orgC, { event: 'installed', tenantId, configuration: { crmEndpoint: 'https://c.example' } });
    await settledIn(stack, orgC, 'active');

    // A's uninstall: every step that would change the tenant finds it is C's now.
    await emit(stack, orgA, { event: 'uninstalled' });
    const a = await settledIn(stack, orgA, 'deprovisioned');
    expect(a.lastEvents.at(-1)?.detail).toContain('refused: disableStreams, deleteCrmConnection, deleteTenant, dropSchema');
    const snapshot = await emulatorState(stack);
    expect(tenantOf(snapshot, tenantId)).toMatchObject({ orgId: orgC, enabled: true, streamsEnabled: true });
    expect(snapshot.crmConnections.find((c) => c.tenantId === tenantId)).toMatchObject({ orgId: orgC, crmEndpoint: 'https://c.example' });
    expect(await schemaExists(pool, tenantId)).toBe(true);
    expect((await installation(stack, orgC))?.state).toBe('active');
    const alert = snapshot.alerts.find((x) => x.body.kind === 'teardown_refused' && x.body.details?.orgId === orgA);
    expect(alert?.body.text).toContain(`installation ${orgA}/${stack.integrationId}`);
    expect(alert?.body.text).toContain(`installation ${orgC}/${stack.integrationId}`);
    expect(alert?.body.details?.refused).toEqual(
      ['disableStreams', 'deleteCrmConnection', 'deleteTenant', 'dropSchema'].map((step) => ({ step, ownedBy: { orgId: orgC, integrationId: stack.integrationId } })),
    );
  });
});

describe('the ID grammar, checked at the receiver', () => {
  it('answers 400 with the reason to NUL bytes, control characters, separators and over-long IDs, and starts no workflow', async () => {
    const orgId = uniqueId('org-grammar');
    const hostile: Array<[string, Record<string, unknown>, string]> = [
      ['a NUL byte in the tenant ID', { tenantId: 'tenant_\u0000acme' }, 'tenantId: must not contain control characters'],
      ['a control character in the org ID', { orgId: `${orgId}\u0007` }, 'orgId: must not contain control characters'],
      ['a newline in the integration ID', { integrationId: `${stack.integrationId}\n` }, 'integrationId: must not contain control characters'],
      ['a "/" in the org ID (the CLI address separator)', { orgId: `${orgId}/x` }, 'orgId: may contain only'],
      ['a ":" in the org ID (the workflow ID separator)', { orgId: `${orgId}:x` }, 'orgId: may contain only'],
      ['a quote in the tenant ID', { tenantId: `tenant_"x` }, 'tenantId: may contain only'],
      ['an over-long org ID', { orgId: `${orgId}-${'x'.repeat(128)}` }, 'orgId: must be at most 128 characters'],
      ['an empty tenant ID', { tenantId: '' }, 'tenantId: must not be empty'],
    ];
    for (const [what, override, reason] of hostile) {
      const payload = { ...lifecyclePayload(stack, orgId, 'installed', { configuration: CRM, sequence: 1 }), ...override };
      const response = await postSigned(stack, payload);
      expect([what, response.status]).toEqual([what, 400]);
      expect(response.body).toMatchObject({ error: 'invalid_payload' });
      expect([what, JSON.stringify(response.body)]).toEqual([what, expect.stringContaining(reason)]);
      const naive = `installation:${String(payload.orgId)}:${String(payload.integrationId)}`;
      expect([what, await workflowExists(naive)]).toEqual([what, false]);
    }
    // Nothing was provisioned for the org either.
    expect(await workflowExists(`installation:${orgId}:${stack.integrationId}`)).toBe(false);
    expect((await emulatorState(stack)).tenantCreateCounts[`tenant_${orgId}`]).toBeUndefined();
  });

  it('keeps today\'s IDs valid: UUIDs, org-abc123, tenant_acme_corp', async () => {
    const orgId = '98765432-1234-5678-9abc-def012345678'.replace(/^9876/, uniqueId('o').slice(2, 6));
    const response = await postSigned(stack, lifecyclePayload(stack, orgId, 'installed', { tenantId: `tenant_acme_corp_${orgId.slice(0, 4)}`, configuration: CRM, sequence: 1 }));
    expect(response.status).toBe(202);
    await settledIn(stack, orgId, 'active');
  });
});

describe('two installations never share a workflow', () => {
  it('IDs that would collide under naive concatenation are refused with 400, and an uninstall of one never affects the other', async () => {
    const base = uniqueId('org-x');
    // The legitimate installation: org `base`, the stack's integration.
    const tenantId = `tenant_${base}`;
    await emit(stack, base, { event: 'installed', tenantId, configuration: CRM });
    await settledIn(stack, base, 'active');

    // org "X:a" / integration "b" and org "X" / integration "a:b" both concatenate to installation:X:a:b, and an
    // uninstall for "<base>:<integration>" / "<integration>" would have named installation:<base>:<integration>:….
    const [a, b] = ['a', 'b'];
    const first = await postSigned(stack, { ...lifecyclePayload(stack, `${base}:${a}`, 'installed', { sequence: 1 }), integrationId: b });
    const second = await postSigned(stack, { ...lifecyclePayload(stack, base, 'installed', { sequence: 1 }), integrationId: `${a}:${b}` });
    expect([first.status, second.status]).toEqual([400, 400]);
    expect(await workflowExists(`installation:${base}:${a}:${b}`)).toBe(false);

    const hostileUninstall = await postSigned(stack, {
      ...lifecyclePayload(stack, `${base}:${stack.integrationId}`, 'uninstalled', { tenantId, sequence: 99 }),
      integrationId: stack.integrationId,
    });
    expect(hostileUninstall.status).toBe(400);

    const view = await installation(stack, base);
    expect(view?.state).toBe('active');
    expect(view?.lastEvents.map((e) => e.event)).toEqual(['installed']);
    expect(tenantOf(await emulatorState(stack), tenantId)).toMatchObject({ enabled: true, streamsEnabled: true });
    expect(await schemaExists(pool, tenantId)).toBe(true);
  });
});

describe('the CLI addresses an installation', () => {
  it('as ORG/INTEGRATION and as --org ORG --integration INTEGRATION; a malformed address is exit code 2', async () => {
    const orgId = uniqueId('org-address');
    await emit(stack, orgId, { event: 'installed', configuration: CRM });
    await settledIn(stack, orgId, 'active');
    const home = await mkdtemp(join(tmpdir(), 'tollgate-cli-'));
    const env: NodeJS.ProcessEnv = { ...process.env, ...stack.env, TOLLGATE_HOME: home, LOG_LEVEL: 'silent' };
    delete env.TOLLGATE_SANDBOX_INTEGRATION_ID;
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [join(__dirname, '..', 'bin', 'tollgate.js'), ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
      });

    const bySlash = await cli('installation', 'status', `${orgId}/${stack.integrationId}`, '--json');
    expect(bySlash.code).toBe(0);
    const byOptions = await cli('installation', 'status', '--org', orgId, '--integration', stack.integrationId, '--json');
    expect(byOptions.code).toBe(0);
    expect(JSON.parse(byOptions.stdout)).toMatchObject({ orgId, integrationId: stack.integrationId, state: 'active' });
    expect(JSON.parse(bySlash.stdout)).toEqual(JSON.parse(byOptions.stdout));

    for (const args of [
      [`${orgId}/${stack.integrationId}/extra`],
      ['--org', `${orgId}:x`, '--integration', stack.integrationId],
      ['--org', orgId],
      [`${orgId}/${stack.integrationId}`, '--org', orgId],
    ]) {
      const refused = await cli('installation', 'status', ...args);
      expect([args, refused.code]).toEqual([args, 2]);
    }
  });
});
