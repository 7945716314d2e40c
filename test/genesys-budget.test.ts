/**
 * One Genesys request budget across every worker process (issue 11): three `tollgate worker` processes, a burst of
 * 50 approved changes plus a reconciliation (and the heartbeat's Audit API polls and the notification channel's
 * upkeep, which the workers run on their own), against an emulator enforcing the platform's limits — here 200
 * requests a minute per token and per OAuth client, and 40 a minute on configuration writes. The emulator's own
 * counters and request log show that no budget was ever exceeded in any minute and that it answered no 429, while
 * more requests than one minute's budget were made. Real processes, Temporal, PostgreSQL and HTTP.
 */
import type { ChildProcess } from 'node:child_process';
import { runReconciliation } from '../client/installations';
import { approveBy, planned, submit, waitForState, type ChangeHandle } from './change-gate-support';
import { useTestStack } from './fixtures';
import { uniqueId } from './harness/stack';
import { deleteWorkerSchedules, startWorkerProcess } from './lifecycle-support';

const PER_MINUTE = 200;
const WRITES_PER_MINUTE = 40;
const CHANGES = 50;

const stack = useTestStack({
  worker: false,
  env: {
    GENESYS_REQUESTS_PER_MINUTE: String(PER_MINUTE),
    GENESYS_RESOURCE_BUDGETS: JSON.stringify({ 'PUT /api/v2/configuration': WRITES_PER_MINUTE }),
    TOLLGATE_HEARTBEAT_EVERY: '20s',
    TOLLGATE_HEARTBEAT_QUIET: '1h',
    TOLLGATE_RECONCILE_EVERY: '1h',
  },
  emulatorSettings: {
    rateLimits: {
      perTokenPerMinute: PER_MINUTE,
      perClientPerMinute: PER_MINUTE,
      windowSeconds: 60,
      resources: [{ method: 'PUT', pathPrefix: '/api/v2/configuration', perMinute: WRITES_PER_MINUTE, per: 'client' }],
    },
  },
});

const workers: ChildProcess[] = [];

afterAll(async () => {
  await Promise.all(
    workers.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  await deleteWorkerSchedules(stack);
});

interface Counter {
  clientId: string;
  token?: string;
  resource?: string;
  admitted: number;
  rejected: number;
  peak: number;
}
interface RequestLog {
  requests: { method: string; path: string; status: number | string; token?: string; clientId?: string }[];
  tooManyRequests: number;
  tokens: Counter[];
  clients: Counter[];
  resources: Counter[];
}

it('holds the per-client and per-resource budgets across three worker processes through a burst of 50 changes and a reconciliation', async () => {
  workers.push(...(await Promise.all([startWorkerProcess(stack), startWorkerProcess(stack), startWorkerProcess(stack)])));

  const targets = await Promise.all(
    Array.from({ length: CHANGES }, async (_, i) => {
      const target = { type: 'ivr', id: uniqueId(`burst${i}`) };
      await stack.emulator.admin('PUT', `/objects/ivr/${target.id}`, { greeting: 'hello', version: 1 });
      return target;
    }),
  );
  const handles: ChangeHandle[] = await Promise.all(targets.map((target, i) => submit(stack, { target, desired: { greeting: `welcome ${i}` }, requester: 'alice' })));
  await Promise.all(handles.map((handle) => planned(handle)));
  const reconciliation = runReconciliation(stack.client, stack.taskQueue, { integrationId: stack.integrationId });
  await Promise.all(handles.map((handle) => approveBy(stack, handle, ['bob', 'carol'])));
  const statuses = await Promise.all(handles.map((handle) => waitForState(handle, ['audited', 'failed', 'rolled_back', 'diverged'], 170_000)));
  expect(statuses.map((status) => status.state)).toEqual(Array(CHANGES).fill('audited'));
  expect((await reconciliation).integrations.map((entry) => entry.integrationId)).toContain(stack.integrationId);

  const log = await stack.emulator.admin<RequestLog>('GET', '/requests');
  // The platform never had to refuse anything…
  expect(log.tooManyRequests).toBe(0);
  expect(log.requests.filter((request) => request.status === 429)).toEqual([]);
  // …no token, no client and no write budget ever held more than its limit in any minute…
  for (const counter of [...log.tokens, ...log.clients]) expect(counter.peak).toBeLessThanOrEqual(PER_MINUTE);
  const writes = log.resources.find((counter) => counter.resource === 'PUT /api/v2/configuration');
  expect(writes?.peak).toBeLessThanOrEqual(WRITES_PER_MINUTE);
  // …although more was asked than one minute allows: the budget, not luck, kept it there.
  expect(writes?.admitted).toBeGreaterThanOrEqual(CHANGES);
  const client = log.clients.find((counter) => counter.clientId === stack.config.genesys.clientId);
  expect(client!.admitted).toBeGreaterThan(PER_MINUTE);
  // The writes came from more than one worker process (each has its own token), all drawing on one budget.
  const writers = new Set(log.requests.filter((request) => request.method === 'PUT' && request.path.startsWith('/api/v2/configuration/')).map((request) => request.token));
  expect(writers.size).toBeGreaterThanOrEqual(2);
  // Reconciliation's Genesys call went through the budget like the rest.
  expect(log.requests.some((request) => request.path === `/api/v2/integrations/${stack.integrationId}/installations`)).toBe(true);
}, 300_000);
