/**
 * What the audit ledger records of real flows (issue 10): an installation's events and transitions with its
 * resources, and a change's every step, each exactly once even when activities are retried (answers lost on the
 * way back, a 5xx), and the chain still verifies. Real Temporal, PostgreSQL, receivers and emulator over HTTP.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Pool } from 'pg';
import { AuditLedger } from '../ledger/audit-ledger';
import type { LedgerRow } from '../workflows/ledger-records';
import { auditWorkflowId, changeWorkflowId, installationWorkflowId } from '../workflows/workflow-ids';
import { approve, approveBy, planned, seedObject, submit, waitForState } from './change-gate-support';
import { useLifecycleStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';
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
    // The state is queryable before the main loop flushes its records: wait for the last transition's row.
    const rows = await eventually('the deprovisioned records', async () => {
      const listed = await ledger.list({ subject });
      return listed.some((row) => row.kind === 'lifecycle.transition' && row.data.state === 'deprovisioned') ? listed : undefined;
    });
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

describe('the audit ledger of a change', () => {
  it('records submission, plan, each approval and refusal with its proof, the write, verification and the audit, once, under retried activities', async () => {
    const target = await seedObject(stack, 'ivr', { greeting: 'Hi', queue: 'general' });
    const handle = await submit(stack, { target, desired: { greeting: 'Hello' }, requester: 'alice' });
    const plan = (await planned(handle)).plan!;
    // A refusal the worker decides (bob's key signing as carol) is recorded with its reason.
    await expect(approve(stack, handle, 'carol', { signedBy: 'bob' })).rejects.toThrow();
    // The write lands but its answer is lost: the write activity is retried and recognises its own write.
    await stack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: `/api/v2/configuration/ivr/${target.id}`, dropResponse: true, count: 1 });
    await approveBy(stack, handle, ['bob', 'carol']);
    const done = await waitForState(handle, ['audited']);
    const faults = (await stack.emulator.admin<{ faults: Array<{ hits: number }> }>('GET', '/state')).faults;
    expect(faults.map((fault) => fault.hits)).toEqual([1]); // the write's answer really was lost

    const rows = await ledger.list({ subject: changeWorkflowId(done.changeId) });
    keysAreUnique(rows);
    expect(rows.map((row) => row.kind)).toEqual([
      'change.submitted',
      'change.planned',
      'change.approval_refused',
      'change.approved',
      'change.approved',
      'change.deploying',
      'change.written',
      'change.verified',
      'change.audited',
    ]);
    const byKind = (kind: string) => rows.filter((row) => row.kind === kind).map((row) => row.data);
    expect(byKind('change.submitted')[0]).toMatchObject({ requester: 'alice', target: `ivr/${target.id}`, desired: { greeting: 'Hello' }, proof: { via: 'signature' } });
    expect(byKind('change.planned')[0]).toMatchObject({ baseVersion: plan.baseVersion, payloadHash: plan.payloadHash, diff: plan.diff });
    expect(byKind('change.approval_refused')[0]).toMatchObject({ principal: 'carol', code: expect.any(String) });
    expect(byKind('change.approved').map((data) => [data.principal, data.via])).toEqual([
      ['bob', 'signature'],
      ['carol', 'signature'],
    ]);
    expect(byKind('change.approved')[0]).toMatchObject({ signature: expect.stringContaining('BEGIN SSH SIGNATURE'), statement: expect.stringContaining('decision: approve') });
    expect(byKind('change.written')[0]).toMatchObject({ versionBefore: plan.baseVersion, versionAfter: done.deploy!.writtenVersion, kind: 'deploy' });
    expect(byKind('change.verified')[0]).toMatchObject({ version: done.deploy!.writtenVersion });

    const audit = await ledger.list({ subject: auditWorkflowId(target, done.deploy!.writtenVersion!) });
    expect(audit.map((row) => [row.kind, row.data.changeId])).toEqual([['audit.approved', done.changeId]]);
    expect((await ledger.verify()).ok).toBe(true);
  });
});

describe('the audit trail outlives Temporal', () => {
  /** `tollgate …` as an operator runs it against this stack (its own environment, no sandbox file). */
  const tollgate = async (args: string[]) => {
    const env = { ...process.env, ...stack.env, TOLLGATE_HOME: mkdtempSync(join(tmpdir(), 'tollgate-ledger-cli-')) };
    const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, '..', 'bin', 'tollgate.js'), ...args], { env, timeout: 30_000 });
    return JSON.parse(stdout);
  };
  const deleteFromTemporal = async (workflowId: string) => {
    const binary = process.env.TOLLGATE_TEMPORAL_BIN as string;
    // As an operator does it: `temporal workflow delete` asks for confirmation on its terminal.
    await new Promise<void>((resolve, reject) => {
      const child = spawn(binary, ['workflow', 'delete', '--address', stack.config.temporal.address as string, '--workflow-id', workflowId]);
      child.stdin.end('y\n');
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`temporal workflow delete exited ${code}: ${output}`))));
    });
    await eventually(`${workflowId} deleted`, async () => {
      try {
        await stack.client.workflow.getHandle(workflowId).describe();
        return false;
      } catch (error) {
        return error instanceof WorkflowNotFoundError;
      }
    });
  };

  it('answers `tollgate change status` and `tollgate audit list` from the ledger once the workflows are deleted from Temporal', async () => {
    const target = await seedObject(stack, 'ivr', { greeting: 'Hi' });
    const handle = await submit(stack, { target, desired: { greeting: 'Hello again' }, requester: 'alice' });
    await planned(handle);
    await approveBy(stack, handle, ['bob', 'dave']);
    const done = await waitForState(handle, ['audited']);
    const auditId = auditWorkflowId(target, done.deploy!.writtenVersion!);

    // Each write is recorded with Genesys Cloud's correlation ID of its request.
    const written = (await ledger.list({ subject: handle.workflowId, kinds: ['change.written'] })).map((row) => row.data);
    expect(written).toEqual([expect.objectContaining({ kind: 'deploy', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) })]);
    const live = await tollgate(['change', 'status', done.changeId, '--json']);
    expect(live).toMatchObject({ source: 'temporal', state: 'audited' });

    await deleteFromTemporal(handle.workflowId);
    await deleteFromTemporal(auditId);

    const remembered = await tollgate(['change', 'status', done.changeId, '--json']);
    expect(remembered).toMatchObject({
      source: 'ledger',
      changeId: done.changeId,
      state: 'audited',
      requester: 'alice',
      target,
      plan: { baseVersion: done.plan!.baseVersion, payloadHash: done.plan!.payloadHash },
      deploy: { writtenVersion: done.deploy!.writtenVersion, verified: true },
    });
    expect(remembered.approvals.map((approval: { approver: string }) => approval.approver)).toEqual(['bob', 'dave']);

    const audits = await tollgate(['audit', 'list', '--target', `ivr/${target.id}`, '--json']);
    expect(audits).toEqual([expect.objectContaining({ workflowId: auditId, verdict: 'approved', changeId: done.changeId, from: 'ledger' })]);
  });
});
