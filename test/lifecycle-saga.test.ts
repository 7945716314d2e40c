/**
 * The install saga and teardown against a real Temporal server, the real worker and receivers, PostgreSQL, and
 * the emulator's partner systems over HTTP.
 */
import type { Pool } from 'pg';
import { eventually, startTestStack, uniqueId, type TestStack } from './harness/stack';
import { CRM, emit, emulatorState, openPool, schemaExists, settledIn, tenantOf } from './lifecycle-support';

let stack: TestStack;
let pool: Pool;

beforeAll(async () => {
  stack = await startTestStack();
  pool = openPool(stack);
});

afterAll(async () => {
  await pool?.end();
  await stack?.close();
});

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

void eventually;
