/**
 * Edge Case 1 (event storm on bulk org deployment): a partner deploys the integration to 500 organisations at
 * once. The emulator sends 500 signed installs within a minute through the real receivers; every one is
 * acknowledged on its first attempt (no 5xx to the sender), and the installations end with 500 tenants and 500
 * schemas, each created once.
 *
 * The worker runs as its own process (`tollgate worker`), as in production, so that provisioning load never shares
 * an event loop with the receivers. Sends are paced evenly over 50 s (STORM_WINDOW_MS), the seed's "500 requests
 * within 60 seconds"; the benchmark (bench/lifecycle-storm.ts) measures harder bursts and 5,000 orgs.
 */
import type { ChildProcess } from 'node:child_process';
import type { Pool } from 'pg';
import { schemaNameForTenant } from '../activities/provisioning/database-schema';
import { eventually, startTestStack, uniqueId, type TestStack } from './harness/stack';
import { CRM, deleteWorkerSchedules, deliveriesFor, emit, emulatorState, openPool, startWorkerProcess } from './lifecycle-support';

const ORGS = 500;
const EMIT_CONCURRENCY = 20;
// 50 s leaves 10 s of the minute for a loaded machine.
const SEND_WINDOW_MS = Number(process.env.STORM_WINDOW_MS ?? 50_000);

let stack: TestStack;
let pool: Pool;

let worker: ChildProcess | undefined;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  pool = openPool(stack);
  worker = await startWorkerProcess(stack);
});

afterAll(async () => {
  if (stack) await deleteWorkerSchedules(stack);
  if (worker && worker.exitCode === null) {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker?.once('exit', resolve));
  }
  await pool?.end();
  await stack?.close();
});

it('Edge Case 1: 500 installs across 500 orgs within a minute end with 500 tenants and schemas, no 5xx to the sender, no duplicate', async () => {
  const orgs = Array.from({ length: ORGS }, (_, index) => uniqueId(`org-storm-${index}`));
  const started = Date.now();
  let next = 0;
  // Paced evenly over SEND_WINDOW_MS (the seed's "500 requests within 60 seconds"), at most EMIT_CONCURRENCY at once.
  await Promise.all(
    Array.from({ length: EMIT_CONCURRENCY }, async () => {
      while (next < orgs.length) {
        const index = next++;
        const due = started + (index * SEND_WINDOW_MS) / ORGS;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        const orgId = orgs[index];
        await emit(stack, orgId, { event: 'installed', tenantId: `tenant_${orgId}`, configuration: CRM });
      }
    }),
  );
  // The scenario's premise: the whole deployment is sent within a minute.
  expect(Date.now() - started).toBeLessThan(60_000);

  const activeQuery = `TollgateKind = 'installation' AND TollgateIntegration = '${stack.integrationId}' AND TollgateState = 'active' AND ExecutionStatus = 'Running'`;
  let lastCount = 0;
  await eventually(
    () => `all ${ORGS} installations active (last count ${lastCount})`,
    async () => {
      lastCount = (await stack.client.workflow.count(activeQuery)).count;
      return lastCount === ORGS;
    },
    150_000,
    1000,
  );

  const snapshot = await emulatorState(stack);
  const tenantIds = new Set(orgs.map((orgId) => `tenant_${orgId}`));
  const tenants = snapshot.tenants.filter((tenant) => tenantIds.has(tenant.tenantId));
  expect(tenants).toHaveLength(ORGS);
  expect(tenants.filter((tenant) => tenant.createCount !== 1)).toEqual([]);

  const schemas = await pool.query('SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = ANY($1)', [
    [...tenantIds].map(schemaNameForTenant),
  ]);
  expect(schemas.rows[0].n).toBe(ORGS);

  // What the sender saw: every first delivery answered 2xx, no 5xx at all, no retries needed.
  const deliveries = orgs.flatMap((orgId) => deliveriesFor(snapshot, orgId));
  expect(deliveries).toHaveLength(ORGS);
  const firstAnswers = deliveries.map((delivery) => delivery.responses[0]);
  expect(firstAnswers.filter((status) => typeof status !== 'number' || status < 200 || status >= 300)).toEqual([]);
  expect(deliveries.flatMap((delivery) => delivery.responses).filter((status) => typeof status !== 'number' || status >= 500)).toEqual([]);
});
