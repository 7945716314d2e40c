/**
 * Lifecycle storms (lifecycle seed, Edge Case 1): N orgs install the integration at once. The emulator sends the
 * signed installs to `tollgate receivers` (its own process); `tollgate worker` (its own process) provisions tenant,
 * schema and CRM connection for each. Figures per storm: time until every installation is active, duplicates
 * (tenants created more than once), what the sender saw (non-2xx answers, retries, deliveries that gave up), and
 * CPU seconds and peak memory of the worker and the receiver.
 *
 * The ceiling, in the same run (issue 14): before each storm, the same installation workflow is started for as many
 * orgs, on the same schedule, by signal-with-start straight from a Temporal client in this process, and run by a
 * worker whose activities answer at once without doing anything (bench/storm-ceiling-worker.ts): what Temporal
 * alone costs on this machine. Real ÷ ceiling is the storm's figure. Both phases report the CPU each process spent
 * per installation (the dev server, the worker, the receivers, this process — the emulator and the sender —,
 * PostgreSQL, and the whole machine, which includes anything else running on it).
 *
 * Storms: 500 orgs sent evenly within 60 s (the seed's scenario), 500 orgs in one burst (as fast as the emulator
 * emits), 5,000 orgs within 60 s. When a delivery gives up after the sender's retries, the storm is finished by
 * reconciliation, as in production; the figures say so.
 *
 * Settings: BENCH_STORMS (e.g. "500:60000,500:0,5000:60000" = orgs:send window ms; 0 = burst); BENCH_STORM_CEILING
 * (default on; "off" runs the real storms alone); BENCH_STORM_REAL ("off" runs the ceilings alone, writing nothing).
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { schemaNameForTenant } from '../activities/provisioning/database-schema';
import { signalInstallation } from '../client/installations';
import { connectClient } from '../client/connection';
import { forEachLimited } from '../platform/concurrency';
import { loadConfig } from '../platform/config';
import { LifecyclePayloadSchema, toInstallationEvent } from '../receivers/lifecycle-event';
import { startTestStack, uniqueId, type TestStack } from '../test/harness/stack';
import { LIFECYCLE_EVENTS } from '../workflows/installation-messages';
import { reconciliationWorkflow } from '../workflows/reconciliation';
import { freePort, machine, machineBusySeconds, parentPid, round, startBenchProgram, startTollgate, treeCpuSeconds, writeResults, type ProcessStats } from './support';

const STORMS = (process.env.BENCH_STORMS ?? '500:60000,500:0,5000:60000').split(',').map((spec) => {
  const [orgs, window] = spec.split(':').map(Number);
  return { orgs, windowMs: window };
});
const CEILING = process.env.BENCH_STORM_CEILING !== 'off';
/** BENCH_STORM_REAL=off: the ceilings alone (to compare dev server settings). */
const REAL = process.env.BENCH_STORM_REAL !== 'off';
const EMIT_CONCURRENCY = 50;
const CRM = { crmEndpoint: 'https://acme.salesforce.com', syncInterval: 'PT5M', featureFlags: ['voice_routing'] };
/** Deliveries are inspected (a large read of the emulator's state) only once the count of active installations has
 * not moved for this long: the check decides whether reconciliation must finish the storm. */
const STALLED_MS = 15_000;

interface Delivery {
  kind: string;
  status: string;
  responses: Array<number | string>;
  body: { orgId?: string };
}

/** CPU milliseconds per installation, by process, over one phase (from the first send to all active). */
interface CpuPerInstall {
  devServer?: number;
  worker: number;
  receivers?: number;
  /** This process: the emulator (sender of the webhooks, partner systems) and the benchmark's own sender/polling. */
  benchProcess: number;
  postgres?: number;
  /** Every process on the machine (other work on it included), over both cores. */
  machine: number;
}

interface CeilingResult {
  orgs: number;
  sentInMs: number;
  allActiveAfterMs: number | null;
  activeAtEnd: number;
  cpuPerInstallMs: CpuPerInstall;
  worker: ProcessStats;
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
  cpuPerInstallMs: CpuPerInstall;
  ceiling?: CeilingResult;
  /** Real "all active after" ÷ the ceiling's. */
  ratio?: number;
}

/** CPU counters of everything but the Tollgate processes, read at the start and the end of a phase. */
class CpuMeter {
  private readonly temporalPid = process.env.BENCH_TEMPORAL_PID ? Number(process.env.BENCH_TEMPORAL_PID) : undefined;
  private start?: { devServer?: number; postgres?: number; bench: number; machine: number };

  constructor(private readonly postgresPid?: number) {}

  private read() {
    const usage = process.cpuUsage();
    return {
      devServer: this.temporalPid ? treeCpuSeconds(this.temporalPid) : undefined,
      postgres: this.postgresPid ? treeCpuSeconds(this.postgresPid) : undefined,
      bench: (usage.user + usage.system) / 1e6,
      machine: machineBusySeconds(),
    };
  }

  begin(): void {
    this.start = this.read();
  }

  /** Milliseconds per installation since begin(); `processes` are the phase's own processes (CPU s at begin, at end). */
  perInstall(orgs: number, processes: { worker: [number, number]; receivers?: [number, number] }): CpuPerInstall {
    const end = this.read();
    const start = this.start!;
    const ms = (seconds: number | undefined) => (seconds === undefined ? undefined : round((seconds * 1000) / orgs, 1));
    const delta = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : b - a);
    return {
      devServer: ms(delta(start.devServer, end.devServer)),
      worker: ms(processes.worker[1] - processes.worker[0])!,
      ...(processes.receivers ? { receivers: ms(processes.receivers[1] - processes.receivers[0]) } : {}),
      benchProcess: ms(end.bench - start.bench)!,
      postgres: ms(delta(start.postgres, end.postgres)),
      machine: ms(end.machine - start.machine)!,
    };
  }
}

/** The PostgreSQL server's main process (the parent of a backend), when it runs on this machine. */
async function postgresPid(pool: Pool): Promise<number | undefined> {
  try {
    const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return parentPid(rows[0].pid);
  } catch {
    return undefined;
  }
}

/** Sends `send(index)` for each org on the storm's schedule (evenly over the window, or at once), 50 at a time. */
async function sendOnSchedule(orgs: number, windowMs: number, send: (index: number) => Promise<void>): Promise<{ started: number; sentInMs: number }> {
  const started = Date.now();
  await forEachLimited(
    Array.from({ length: orgs }, (_, index) => index),
    EMIT_CONCURRENCY,
    async (index) => {
      const due = started + (index * windowMs) / orgs;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      await send(index);
    },
  );
  return { started, sentInMs: Date.now() - started };
}

const activeQuery = (integrationId: string) =>
  `TollgateKind = 'installation' AND TollgateIntegration = '${integrationId}' AND TollgateState = 'active' AND ExecutionStatus = 'Running'`;

/**
 * The ceiling: the same installation workflow, the same schedule, the same worker options, started by signal-with-
 * start from a Temporal client in this process (what the receiver does for each event, without HTTP), and run by a
 * worker whose install activities do nothing.
 */
async function ceiling(orgs: number, windowMs: number): Promise<CeilingResult> {
  const taskQueue = uniqueId('ceiling');
  const integrationId = uniqueId('integration');
  const env = {
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: process.env.TOLLGATE_TEST_TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKER_METRICS_PORT: '0',
    DATABASE_URL: process.env.TOLLGATE_TEST_DATABASE_URL,
  };
  const config = loadConfig(env);
  const client = await connectClient(config.temporal);
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: 1 });
  const meter = new CpuMeter(await postgresPid(pool));
  await pool.end();
  const worker = await startBenchProgram('storm-ceiling-worker.ts', env, 'worker running');
  try {
    const runId = randomUUID().slice(0, 6);
    const workerBefore = worker.stats().cpuSeconds;
    meter.begin();
    const { started, sentInMs } = await sendOnSchedule(orgs, windowMs, async (index) => {
      const orgId = `ceiling-${runId}-${index}`;
      const payload = LifecyclePayloadSchema.parse({
        event: 'installed',
        integrationId,
        orgId,
        tenantId: `tenant_${orgId}`,
        configuration: CRM,
        eventTimestamp: new Date().toISOString(),
        metadata: { installedBy: `admin@${orgId}`, source: 'marketplace', sequence: 1 },
      });
      await signalInstallation(client, taskQueue, toInstallationEvent(payload, new Date()));
    });
    let allActiveAfterMs: number | null = null;
    const deadline = started + 15 * 60_000;
    let active = 0;
    for (;;) {
      active = (await client.workflow.count(activeQuery(integrationId))).count;
      if (active === orgs) {
        allActiveAfterMs = Date.now() - started;
        break;
      }
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const cpuPerInstallMs = meter.perInstall(orgs, { worker: [workerBefore, worker.stats().cpuSeconds] });
    return { orgs, sentInMs, allActiveAfterMs, activeAtEnd: active, cpuPerInstallMs, worker: worker.stats() };
  } finally {
    await worker.stop().catch(() => undefined);
    await client.connection.close();
  }
}

async function storm(orgs: number, windowMs: number): Promise<StormResult> {
  const stack: TestStack = await startTestStack({ worker: false, receivers: false });
  const port = await freePort();
  const receivers = await startTollgate('receivers', { ...stack.env, RECEIVER_PORT: String(port) }, 'receivers listening');
  const worker = await startTollgate('worker', { ...stack.env, WORKER_METRICS_PORT: '0' }, 'worker running');
  const runId = randomUUID().slice(0, 6);
  const orgIds = Array.from({ length: orgs }, (_, index) => `storm-${runId}-${index}`);
  const pool = new Pool({ connectionString: stack.databaseUrl, max: 2 });
  const meter = new CpuMeter(await postgresPid(pool));
  try {
    // The seed's webhook settings: five retries with exponential backoff from 1 s, a 3 s timeout.
    await stack.genesys.putIntegrationWebhooks(stack.integrationId, {
      url: `http://127.0.0.1:${port}/v1/genesys/lifecycle`,
      events: [...LIFECYCLE_EVENTS],
      retryPolicy: { maxRetries: 5, initialDelayMs: 1000, backoffMultiplier: 2 },
      timeoutMs: 3000,
      secret: stack.secrets.lifecycle,
    });

    const workerBefore = worker.stats().cpuSeconds;
    const receiversBefore = receivers.stats().cpuSeconds;
    meter.begin();
    const { started, sentInMs } = await sendOnSchedule(orgs, windowMs, async (index) => {
      await stack.emulator.admin('POST', `/integrations/${stack.integrationId}/orgs/${orgIds[index]}/events`, {
        event: 'installed',
        tenantId: `tenant_${orgIds[index]}`,
        configuration: CRM,
      });
    });

    const countActive = async () => (await stack.client.workflow.count(activeQuery(stack.integrationId))).count;
    const deliveriesSettled = async () => {
      const state = await stack.emulator.admin<{ deliveries: Delivery[] }>('GET', '/state');
      return state.deliveries.filter((d) => d.kind === 'lifecycle').every((d) => d.status === 'delivered' || d.status === 'failed');
    };

    let allActiveAfterMs: number | null = null;
    let finishedByReconciliation = false;
    let reconciliationRepairs = 0;
    const deadline = started + 15 * 60_000;
    let lastActive = -1;
    let movedAt = Date.now();
    for (;;) {
      const active = await countActive();
      if (active === orgs) {
        allActiveAfterMs = Date.now() - started;
        break;
      }
      if (Date.now() > deadline) break;
      if (active !== lastActive) {
        lastActive = active;
        movedAt = Date.now();
      }
      // Stalled, every delivery has an outcome and some installs never arrived: reconciliation finishes the job.
      if (!finishedByReconciliation && Date.now() - movedAt > STALLED_MS && (await deliveriesSettled())) {
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
    const cpuPerInstallMs = meter.perInstall(orgs, {
      worker: [workerBefore, worker.stats().cpuSeconds],
      receivers: [receiversBefore, receivers.stats().cpuSeconds],
    });
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
      cpuPerInstallMs,
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
    const shape = windowMs === 0 ? 'one burst' : `within ${windowMs / 1000} s`;
    let ceilingResult: CeilingResult | undefined;
    if (CEILING) {
      process.stdout.write(`ceiling: ${orgs} orgs, ${shape}\n`);
      ceilingResult = await ceiling(orgs, windowMs);
      process.stdout.write(`${JSON.stringify(ceilingResult)}\n`);
    }
    if (!REAL) continue;
    process.stdout.write(`storm: ${orgs} orgs, ${shape}\n`);
    const result = await storm(orgs, windowMs);
    if (ceilingResult) {
      result.ceiling = ceilingResult;
      if (result.allActiveAfterMs !== null && ceilingResult.allActiveAfterMs !== null) result.ratio = round(result.allActiveAfterMs / ceilingResult.allActiveAfterMs, 2);
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
    results.push(result);
  }
  if (!REAL) return;
  const at = new Date().toISOString();
  const m = machine();
  const markdown = renderStorms(at, m, results);
  writeResults('lifecycle-storm', { benchmark: 'lifecycle-storm', at, machine: m, storms: results }, markdown);
  process.stdout.write(`${markdown}\n`);
}

function renderStorms(at: string, m: ReturnType<typeof machine>, results: StormResult[]): string {
  const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? 'not reached' : `${round(ms / 1000, 1)} s`);
  const shape = (r: StormResult) => `${r.orgs} orgs, ${r.sendWindowMs === 0 ? 'one burst' : `within ${r.sendWindowMs / 1000} s`}`;
  const cpu = (c: CpuPerInstall) =>
    [c.devServer, c.worker, c.receivers, c.benchProcess, c.postgres, c.machine].map((value) => (value === undefined ? '–' : String(value))).join(' / ');
  const lines = [
    `### Lifecycle storms (${at.slice(0, 10)}, ${m.cpus} CPUs, Node ${m.node})`,
    '',
    '| storm | sent in | all active after | ceiling (same workflow, no-op activities, raw client) | real ÷ ceiling | tenants / schemas | duplicate tenants | non-2xx answers (first attempts) | retried / gave up | worker CPU s / peak MB | receiver CPU s / peak MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${shape(r)} | ${seconds(r.sentInMs)} | ${seconds(r.allActiveAfterMs)}${r.finishedByReconciliation ? ` (after reconciliation: ${r.reconciliationRepairs} repairs)` : ''} | ${r.ceiling ? seconds(r.ceiling.allActiveAfterMs) : '–'} | ${r.ratio ?? '–'} | ${r.tenants} / ${r.schemas} | ${r.duplicateTenants} | ${r.deliveries.non2xxResponses} (${r.deliveries.firstAttemptNon2xx})${r.deliveries.non2xxResponses > 0 ? ` ${JSON.stringify(r.deliveries.by)}` : ''} | ${r.deliveries.retried} / ${r.deliveries.gaveUp} | ${r.worker.cpuSeconds} / ${r.worker.peakRssMb} | ${r.receiver.cpuSeconds} / ${r.receiver.peakRssMb} |`,
    ),
    '',
    'CPU ms per installation, from the first send to all active — dev server / worker / receivers / benchmark process (emulator and sender) / PostgreSQL / whole machine:',
    '',
    '| storm | real | ceiling |',
    '|---|---|---|',
    ...results.map((r) => `| ${shape(r)} | ${cpu(r.cpuPerInstallMs)} | ${r.ceiling ? cpu(r.ceiling.cpuPerInstallMs) : '–'} |`),
    '',
    '"all active after" counts from the first send (real: through the emulator\'s signed webhooks, `tollgate receivers` and `tollgate worker` with its real activities; ceiling: signal-with-start from a Temporal client, a worker with the same options whose install activities answer at once, run just before on the same dev server). Duplicates: tenants the middleware created more than once. Non-2xx: every answer the sender got that was not 2xx, including timeouts (> 3 s). The whole machine\'s CPU includes anything else running on it.',
  ];
  return lines.join('\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
