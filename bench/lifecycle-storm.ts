/**
 * Lifecycle storms (lifecycle seed, Edge Case 1): N orgs install the integration at once. The emulator sends the
 * signed installs to `tollgate receivers` (its own process); `tollgate worker` (its own process) provisions tenant,
 * schema and CRM connection for each. Figures per storm: time until every installation is active, duplicates
 * (tenants created more than once), what the sender saw (non-2xx answers, retries, deliveries that gave up), and
 * CPU seconds and peak memory of the worker and the receiver.
 *
 * Storms: 500 orgs sent evenly within 60 s (the seed's scenario), 500 orgs in one burst (as fast as the emulator
 * emits), 5,000 orgs within 60 s. When a delivery gives up after the sender's retries, the storm is finished by
 * reconciliation, as in production; the figures say so.
 *
 * Settings: BENCH_STORMS (e.g. "500:60000,500:0,5000:60000" = orgs:send window ms; 0 = burst).
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { schemaNameForTenant } from '../activities/provisioning/database-schema';
import { forEachLimited } from '../platform/concurrency';
import { startTestStack, type TestStack } from '../test/harness/stack';
import { LIFECYCLE_EVENTS } from '../workflows/installation-messages';
import { reconciliationWorkflow } from '../workflows/reconciliation';
import { freePort, machine, round, startTollgate, writeResults, type ProcessStats } from './support';

const STORMS = (process.env.BENCH_STORMS ?? '500:60000,500:0,5000:60000').split(',').map((spec) => {
  const [orgs, window] = spec.split(':').map(Number);
  return { orgs, windowMs: window };
});
const EMIT_CONCURRENCY = 50;
const CRM = { crmEndpoint: 'https://acme.salesforce.com', syncInterval: 'PT5M', featureFlags: ['voice_routing'] };

interface Delivery {
  kind: string;
  status: string;
  responses: Array<number | string>;
  body: { orgId?: string };
}

interface StormResult {
  orgs: number;
  sendWindowMs: number;
  sentInMs: number;
  allActiveAfterMs: number | null;
  activeAtEnd: number;
  finishedByReconciliation: boolean;
  reconciliationRepairs: number;
  tenants: number;
  duplicateTenants: number;
  schemas: number;
  deliveries: {
    firstAttemptNon2xx: number;
    non2xxResponses: number;
    by: Record<string, number>;
    retried: number;
    gaveUp: number;
  };
  worker: ProcessStats;
  receiver: ProcessStats;
}

async function storm(orgs: number, windowMs: number): Promise<StormResult> {
  const stack: TestStack = await startTestStack({ worker: false, receivers: false });
  const port = await freePort();
  const receivers = await startTollgate('receivers', { ...stack.env, RECEIVER_PORT: String(port) }, 'receivers listening');
  const worker = await startTollgate('worker', { ...stack.env, WORKER_METRICS_PORT: '0' }, 'worker running');
  const runId = randomUUID().slice(0, 6);
  const orgIds = Array.from({ length: orgs }, (_, index) => `storm-${runId}-${index}`);
  const pool = new Pool({ connectionString: stack.databaseUrl, max: 2 });
  try {
    // The seed's webhook settings: five retries with exponential backoff from 1 s, a 3 s timeout.
    await stack.genesys.putIntegrationWebhooks(stack.integrationId, {
      url: `http://127.0.0.1:${port}/v1/genesys/lifecycle`,
      events: [...LIFECYCLE_EVENTS],
      retryPolicy: { maxRetries: 5, initialDelayMs: 1000, backoffMultiplier: 2 },
      timeoutMs: 3000,
      secret: stack.secrets.lifecycle,
    });

    const started = Date.now();
    await forEachLimited(orgIds, EMIT_CONCURRENCY, async (orgId, index) => {
      const due = started + (index * windowMs) / orgs;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      await stack.emulator.admin('POST', `/integrations/${stack.integrationId}/orgs/${orgId}/events`, {
        event: 'installed',
        tenantId: `tenant_${orgId}`,
        configuration: CRM,
      });
    });
    const sentInMs = Date.now() - started;

    const activeQuery = `TollgateKind = 'installation' AND TollgateIntegration = '${stack.integrationId}' AND TollgateState = 'active' AND ExecutionStatus = 'Running'`;
    const countActive = async () => (await stack.client.workflow.count(activeQuery)).count;
    const deliveriesSettled = async () => {
      const state = await stack.emulator.admin<{ deliveries: Delivery[] }>('GET', '/state');
      return state.deliveries.filter((d) => d.kind === 'lifecycle').every((d) => d.status === 'delivered' || d.status === 'failed');
    };

    let allActiveAfterMs: number | null = null;
    let finishedByReconciliation = false;
    let reconciliationRepairs = 0;
    const deadline = started + 15 * 60_000;
    for (;;) {
      const active = await countActive();
      if (active === orgs) {
        allActiveAfterMs = Date.now() - started;
        break;
      }
      if (Date.now() > deadline) break;
      // Every delivery has an outcome and some installs never arrived: reconciliation finishes the job.
      if (!finishedByReconciliation && (await deliveriesSettled())) {
        const state = await stack.emulator.admin<{ deliveries: Delivery[] }>('GET', '/state');
        if (state.deliveries.some((d) => d.kind === 'lifecycle' && d.status === 'failed')) {
          finishedByReconciliation = true;
          const summary = await stack.client.workflow.execute(reconciliationWorkflow, {
            workflowId: `bench-reconciliation-${runId}`,
            taskQueue: stack.taskQueue,
            args: [{ integrationId: stack.integrationId, reason: 'bench' }],
          });
          reconciliationRepairs = summary.repaired.length;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const activeAtEnd = await countActive();
    const workerStats = worker.stats();
    const receiverStats = receivers.stats();

    const state = await stack.emulator.admin<{
      tenants: Array<{ tenantId: string; createCount: number }>;
      deliveries: Delivery[];
    }>('GET', '/state');
    const tenantIds = new Set(orgIds.map((orgId) => `tenant_${orgId}`));
    const tenants = state.tenants.filter((t) => tenantIds.has(t.tenantId));
    const schemas = await pool.query('SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = ANY($1)', [
      [...tenantIds].map(schemaNameForTenant),
    ]);
    const deliveries = state.deliveries.filter((d) => d.kind === 'lifecycle');
    const by: Record<string, number> = {};
    let non2xx = 0;
    for (const response of deliveries.flatMap((d) => d.responses)) {
      const ok = typeof response === 'number' && response >= 200 && response < 300;
      if (!ok) {
        non2xx++;
        by[String(response)] = (by[String(response)] ?? 0) + 1;
      }
    }
    const isOk = (r: number | string | undefined) => typeof r === 'number' && r >= 200 && r < 300;
    return {
      orgs,
      sendWindowMs: windowMs,
      sentInMs,
      allActiveAfterMs,
      activeAtEnd,
      finishedByReconciliation,
      reconciliationRepairs,
      tenants: tenants.length,
      duplicateTenants: tenants.filter((t) => t.createCount > 1).length,
      schemas: schemas.rows[0].n as number,
      deliveries: {
        firstAttemptNon2xx: deliveries.filter((d) => !isOk(d.responses[0])).length,
        non2xxResponses: non2xx,
        by,
        retried: deliveries.filter((d) => d.responses.length > 1).length,
        gaveUp: deliveries.filter((d) => d.status === 'failed').length,
      },
      worker: workerStats,
      receiver: receiverStats,
    };
  } finally {
    await pool.end();
    await worker.stop().catch(() => undefined);
    await receivers.stop().catch(() => undefined);
    await stack.close();
  }
}

async function main(): Promise<void> {
  const results: StormResult[] = [];
  for (const { orgs, windowMs } of STORMS) {
    process.stdout.write(`storm: ${orgs} orgs, ${windowMs === 0 ? 'one burst' : `within ${windowMs / 1000} s`}\n`);
    const result = await storm(orgs, windowMs);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    results.push(result);
  }
  const at = new Date().toISOString();
  const m = machine();
  const seconds = (ms: number | null) => (ms === null ? 'not reached' : `${round(ms / 1000, 1)} s`);
  const markdown = [
    `### Lifecycle storms (${at.slice(0, 10)}, ${m.cpus} CPUs, Node ${m.node})`,
    '',
    '| storm | sent in | all active after | tenants / schemas | duplicate tenants | non-2xx answers (first attempts) | retried / gave up | worker CPU s / peak MB | receiver CPU s / peak MB |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.orgs} orgs, ${r.sendWindowMs === 0 ? 'one burst' : `within ${r.sendWindowMs / 1000} s`} | ${seconds(r.sentInMs)} | ${seconds(r.allActiveAfterMs)}${r.finishedByReconciliation ? ` (after reconciliation: ${r.reconciliationRepairs} repairs)` : ''} | ${r.tenants} / ${r.schemas} | ${r.duplicateTenants} | ${r.deliveries.non2xxResponses} (${r.deliveries.firstAttemptNon2xx})${r.deliveries.non2xxResponses > 0 ? ` ${JSON.stringify(r.deliveries.by)}` : ''} | ${r.deliveries.retried} / ${r.deliveries.gaveUp} | ${r.worker.cpuSeconds} / ${r.worker.peakRssMb} | ${r.receiver.cpuSeconds} / ${r.receiver.peakRssMb} |`,
    ),
    '',
    '"all active after" counts from the first send. Duplicates: tenants the middleware created more than once. Non-2xx: every answer the sender got that was not 2xx, including timeouts (> 3 s).',
  ].join('\n');
  writeResults('lifecycle-storm', { benchmark: 'lifecycle-storm', at, machine: m, storms: results }, markdown);
  process.stdout.write(`${markdown}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
