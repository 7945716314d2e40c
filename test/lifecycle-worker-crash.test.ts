/**
 * A worker killed (SIGKILL) in the middle of the install saga: another worker picks the workflow up, the step
 * that was in flight is retried idempotently, and the installation is provisioned exactly once.
 */
import type { ChildProcess } from 'node:child_process';
import type { Pool } from 'pg';
import { installationWorkflowId } from '../workflows/workflow-ids';
import { eventually, startTestStack, uniqueId, type TestStack } from './harness/stack';
import {
  CRM,
  deleteWorkerSchedules,
  deliveriesFor,
  emit,
  emulatorState,
  openPool,
  schemaExists,
  settledIn,
  startWorkerProcess,
  tenantOf,
} from './lifecycle-support';

let stack: TestStack;
let pool: Pool;
let child: ChildProcess | undefined;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  pool = openPool(stack);
});

afterAll(async () => {
  if (stack) await deleteWorkerSchedules(stack);
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await pool?.end();
  await stack?.close();
});

let waitingOrg: string | undefined;

it('acknowledges on the first attempt while no worker runs at all: the event waits durably in Temporal', async () => {
  const orgId = uniqueId('org-no-worker');
  waitingOrg = orgId;
  await emit(stack, orgId, { event: 'installed', configuration: CRM });
  const delivery = await eventually('the delivery to be answered', async () => {
    const found = deliveriesFor(await emulatorState(stack), orgId)[0];
    return found?.status === 'delivered' ? found : undefined;
  });
  expect(delivery.responses).toEqual([202]);
  const description = await stack.client.workflow.getHandle(installationWorkflowId(orgId, stack.integrationId)).describe();
  expect(description.status.name).toBe('RUNNING');
  expect(tenantOf(await emulatorState(stack), `tenant_${orgId}`)).toBeUndefined();
});

it('a worker killed mid-saga: the saga finishes exactly once on another worker', async () => {
  child = await startWorkerProcess(stack);
  // The event that arrived while no worker ran is provisioned now.
  if (waitingOrg) await settledIn(stack, waitingOrg, 'active');
  // The CRM step (the saga's last) is slow, so the kill lands while it is in flight, after tenant and schema.
  const { id: faultId } = await stack.emulator.admin<{ id: string }>('POST', '/faults', {
    method: 'PUT',
    pathPrefix: '/partner/crm/connections',
    latencyMs: 1500,
    count: 1,
  });
  const orgId = uniqueId('org-crash');
  const tenantId = `tenant_${orgId}`;
  await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
  await eventually('the CRM call to reach the CRM', async () => {
    const snapshot = await stack.emulator.admin<{ faults: Array<{ id: string; hits: number }> }>('GET', '/state');
    return snapshot.faults.find((fault) => fault.id === faultId)?.hits === 1;
  });
  child.kill('SIGKILL');
  await new Promise<void>((resolve) => (child?.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

  // Half-way: tenant and schema exist, the CRM connection does not, and no worker is left.
  expect(tenantOf(await emulatorState(stack), tenantId)).toBeDefined();
  expect(await schemaExists(pool, tenantId)).toBe(true);

  await stack.worker.start();
  const active = await settledIn(stack, orgId, 'active', 120_000);
  expect(active.compensationsRun).toEqual([]);
  expect(active.lastEvents.map((e) => [e.event, e.outcome])).toEqual([['installed', 'applied']]);
  const snapshot = await emulatorState(stack);
  // The steps that had completed are not run again (their results are in the history); the CRM step is retried.
  expect(snapshot.tenantCreateCounts[tenantId]).toEqual({ createCount: 1, createAttempts: 1 });
  expect(snapshot.crmConnections.filter((c) => c.tenantId === tenantId)).toHaveLength(1);
  expect(await schemaExists(pool, tenantId)).toBe(true);
});
