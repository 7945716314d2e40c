/**
 * A worker killed (SIGKILL) in the middle of the install saga: another worker picks the workflow up, the step
 * that was in flight is retried idempotently, and the installation is provisioned exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { eventually, startTestStack, uniqueId, type TestStack } from './harness/stack';
import { CRM, emit, emulatorState, installation, openPool, schemaExists, settledIn, tenantOf } from './lifecycle-support';

let stack: TestStack;
let pool: Pool;
let child: ChildProcess | undefined;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  pool = openPool(stack);
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await pool?.end();
  await stack?.close();
});

function startWorkerProcess(): Promise<ChildProcess> {
  const worker = spawn(process.execPath, [join(__dirname, '..', 'bin', 'tollgate.js'), 'worker'], {
    env: { ...process.env, ...stack.env, LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('worker running')) resolve(worker);
    };
    worker.stdout?.on('data', onData);
    worker.stderr?.on('data', onData);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before it ran: ${output.slice(-2000)}`)));
  });
}

it('a worker killed mid-saga: the saga finishes exactly once on another worker', async () => {
  child = await startWorkerProcess();
  // The tenant create is slow, so the kill lands while it is in flight at the middleware.
  const { id: faultId } = await stack.emulator.admin<{ id: string }>('POST', '/faults', {
    method: 'POST',
    pathPrefix: '/partner/tenants',
    latencyMs: 1500,
    count: 1,
  });
  const orgId = uniqueId('org-crash');
  const tenantId = `tenant_${orgId}`;
  await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
  await eventually('the tenant create to reach the middleware', async () => {
    const snapshot = await stack.emulator.admin<{ faults: Array<{ id: string; hits: number }> }>('GET', '/state');
    return snapshot.faults.find((fault) => fault.id === faultId)?.hits === 1;
  });
  child.kill('SIGKILL');
  await new Promise<void>((resolve) => (child?.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

  // The killed worker's request still lands: the tenant exists, though nobody heard the answer.
  await eventually('the orphaned create to land', async () => tenantOf(await emulatorState(stack), tenantId));
  expect((await installation(stack, orgId).catch(() => undefined))?.resources?.tenant ?? false).toBe(false);

  await stack.worker.start();
  const active = await settledIn(stack, orgId, 'active', 120_000);
  expect(active.compensationsRun).toEqual([]);
  expect(active.lastEvents.map((e) => [e.event, e.outcome])).toEqual([['installed', 'applied']]);
  const snapshot = await emulatorState(stack);
  // Created once; the retried create found it (409) and accepted it as its own.
  expect(snapshot.tenantCreateCounts[tenantId]).toEqual({ createCount: 1, createAttempts: 2 });
  expect(snapshot.crmConnections.filter((c) => c.tenantId === tenantId)).toHaveLength(1);
  expect(await schemaExists(pool, tenantId)).toBe(true);
});
