/**
 * What the audit ledger records of real flows (issue 10): an installation's events and transitions with its
 * resources, and a change's every step, each exactly once even when activities are retried (answers lost on the
 * way back, a 5xx), and the chain still verifies. Real Temporal, PostgreSQL, receivers and emulator over HTTP.
 */
import { Pool } from 'pg';
import { AuditLedger } from '../ledger/audit-ledger';
import type { LedgerRow } from '../workflows/ledger-records';
import { installationWorkflowId } from '../workflows/workflow-ids';
import { useLifecycleStack } from './fixtures';
import { uniqueId } from './harness/stack';
import { CRM, emit, settledIn } from './lifecycle-support';

const { stack } = useLifecycleStack();
let ledger: AuditLedger;
let pool: Pool;

beforeAll(() => {
  pool = new Pool({ connectionString: stack.databaseUrl, max: 2 });
  ledger = new AuditLedger(pool);
});
afterAll(() => pool.end());

afterEach(async () => {
  await stack.emulator.admin('DELETE', '/faults');
});

function keysAreUnique(rows: LedgerRow[]): void {
  expect(new Set(rows.map((row) => row.key)).size).toBe(rows.length);
}

describe('the audit ledger of an installation', () => {
  it('records every lifecycle event received and every transition with its resources, once, under retried activities', async () => {
    const orgId = uniqueId('org-ledger');
    const tenantId = `tenant_${orgId}`;
    // The tenant create lands but its answer is lost, and the CRM answers 503 once: both activities are retried.
    await stack.emulator.admin('POST', '/faults', { method: 'POST', pathPrefix: '/partner/tenants', dropResponse: true, count: 1 });
    await stack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: '/partner/crm/connections', status: 503, count: 1 });
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM, duplicates: 2 });
    await settledIn(stack, orgId, 'active');
    const faults = (await stack.emulator.admin<{ faults: Array<{ hits: number }> }>('GET', '/state')).faults;
    expect(faults.map((fault) => fault.hits)).toEqual([1, 1]); // both retries really happened
    await emit(stack, orgId, { event: 'uninstalled' });
    await settledIn(stack, orgId, 'deprovisioned');

    const subject = installationWorkflowId(orgId, stack.integrationId);
    const rows = await ledger.list({ subject });
    keysAreUnique(rows);
    const received = rows.filter((row) => row.kind === 'lifecycle.event_received' && row.data.outcome !== 'duplicate');
    expect(received.map((row) => [row.data.event, row.data.outcome])).toEqual([
      ['installed', 'applied'],
      ['uninstalled', 'applied'],
    ]);
    expect(received[0].data).toMatchObject({ orgId, integrationId: stack.integrationId, tenantId, source: 'webhook' });

    const transitions = rows.filter((row) => row.kind === 'lifecycle.transition').map((row) => row.data);
    expect(transitions.map((data) => data.state)).toEqual(expect.arrayContaining(['provisioning', 'active', 'deprovisioning', 'deprovisioned']));
    const active = transitions.find((data) => data.state === 'active');
    expect(active).toMatchObject({ tenantId, generation: 1, resources: { tenant: true, schema: true, crm: true } });
    expect(transitions.at(-1)).toMatchObject({ state: 'deprovisioned', resources: { tenant: false, schema: false, crm: false } });
    // Revisions only go forward, one row each.
    const revisions = transitions.map((data) => data.revision as number);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(new Set(revisions).size).toBe(revisions.length);
  });
});
