/**
 * Change gate latency (SPEC, "Measured, not asserted"), against the emulator, with `tollgate worker` and
 * `tollgate receivers` as their own processes (so their CPU and memory are their own):
 *
 * 1. Approval to verified deploy: BENCH_CHANGES (default 30) changes, one at a time, each to its own object, paced
 *    so that they do not exhaust the Genesys budget; measured from the moment the final approval was accepted
 *    (state `approved`) to `deployed` (read back and verified), both stamped by the workflow. Median and p99, and
 *    where the time goes, hop by hop, from the change's and its target's histories (bench/history-breakdown.ts).
 * 2. 20 concurrent changes to one object: all approved at once; total time from the first final approval sent to
 *    the last change verified, conflicts retried, and whether every field landed. Run twice: alone, and with a
 *    human editing another field of the object in the Genesys UI every second (BENCH_UI_EDIT_EVERY_MS) (writes outside the gate are what
 *    makes the seed's 409 path happen; the gate's own deploys are serialised by the per-object lock).
 * 3. Genesys calls per change (plan read, deploy read, write(s), read-back), from the workflows' own counts.
 *
 * Each scenario runs under two Genesys budgets: the production one (GENESYS_REQUESTS_PER_MINUTE=300, held by
 * the request budget all workers share) and an unthrottled one (60000/min), which shows the gate's own overhead.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signStatement } from '../approvals/signed-statement';
import { parsePrivateKey, type SshPrivateKey } from '../approvals/ssh-keys';
import { renderStatement } from '../approvals/statement';
import { submissionStatement } from '../approvals/submission';
import { wireSandbox } from '../cli/sandbox';
import { statementFor, submitChange } from '../client/change-gate';
import { GenesysClient } from '../genesys/client';
import { gcraParameters } from '../genesys/request-budget';
import { createLogger } from '../platform/logger';
import { startTestStack, type TestStack } from '../test/harness/stack';
import { approveUpdate, statusQuery, type ChangeStatus } from '../workflows/change-messages';
import { targetWorkflowId, type TargetRef } from '../workflows/workflow-ids';
import { breakdown, hopCounts, medianHops } from './history-breakdown';
import { freePort, machine, percentile, round, startTollgate, writeResults, type ProcessStats } from './support';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 30);
const CONCURRENT = 20;
const BUDGETS = (process.env.BENCH_GENESYS_RPM ?? '300,60000').split(',').map(Number);
const UI_EDIT_EVERY_MS = Number(process.env.BENCH_UI_EDIT_EVERY_MS ?? 1000);
/** Genesys requests one sequential change makes: plan read, deploy read, write, read-back. */
/** A directory to write each sequential change's histories to (with its approved and deployed times), to look into. */
const DUMP_HISTORIES = process.env.BENCH_DUMP_HISTORIES;
/** `sequential,concurrent,ui-edits` (default: all three). */
const SCENARIOS = new Set((process.env.BENCH_SCENARIOS ?? 'sequential,concurrent,ui-edits').split(','));

interface BudgetFigures {
  requestsPerMinute: number;
  sequential: {
    changes: number;
    medianMs: number;
    p99Ms: number;
    maxMs: number;
    genesysCallsPerChange: { median: number; max: number };
    /** Where approval → verified goes, per hop, from the change's and its target's histories. */
    hops: { hop: string; medianMs: number; meanMs: number }[];
    /** Workflow tasks and activities scheduled in the change between approval and verified (medians). */
    tasksPerChange: { workflowTasks: number; activities: number };
  };
  concurrent?: ConcurrentFigures;
  concurrentWithUiEdits?: ConcurrentFigures & { uiEdits: number };
  worker: ProcessStats;
  receivers: ProcessStats;
}

interface ConcurrentFigures {
  changes: number;
  totalMs: number;
  conflictsRetried: number;
  allLanded: boolean;
  states: Record<string, number>;
  genesysCallsPerChange: { median: number; max: number };
}

async function seed(stack: TestStack, fields: Record<string, unknown>): Promise<TargetRef> {
  const target = { type: 'ivr', id: `bench-${randomUUID().slice(0, 8)}` };
  await stack.emulator.admin('PUT', `/objects/${target.type}/${target.id}`, { ...fields, version: 1 });
  return target;
}

async function statusWhen(client: Client, changeId: string, done: (status: ChangeStatus) => boolean, everyMs = 200): Promise<ChangeStatus> {
  const handle = client.workflow.getHandle(`change:${changeId}`);
  const deadline = Date.now() + 600_000;
  for (;;) {
    const status = (await handle.query(statusQuery)) as ChangeStatus;
    if (done(status)) return status;
    if (Date.now() > deadline) throw new Error(`change ${changeId} stuck in ${status.state}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const settled = (status: ChangeStatus) => ['deployed', 'audited', 'failed', 'rolled_back', 'diverged', 'expired', 'rejected', 'cancelled', 'refused'].includes(status.state);

const keys = new Map<string, SshPrivateKey>();
/** Each person's own key, as the CLI's --key reads it (the stack made them as `npm start` does). */
function keyOf(stack: TestStack, name: string): SshPrivateKey {
  if (!keys.has(name)) keys.set(name, parsePrivateKey(readFileSync(stack.keyPath(name), 'utf8')));
  return keys.get(name)!;
}

async function planned(stack: TestStack, target: TargetRef, desired: Record<string, unknown>): Promise<{ changeId: string; status: ChangeStatus }> {
  const changeId = `bench-${randomUUID()}`;
  const input = { changeId, target, desired, requester: 'alice' };
  const signature = signStatement(renderStatement(submissionStatement(input, stack.config.temporal.namespace)), keyOf(stack, 'alice'));
  await submitChange(stack.client, stack.taskQueue, { ...input, submission: { signature } });
  const status = await statusWhen(stack.client, changeId, (s) => s.state !== 'planning', 50);
  if (status.state !== 'awaiting_approval') throw new Error(`change ${changeId}: ${status.state} ${status.stateReason ?? ''}`);
  return { changeId, status };
}

/** An approval as a person gives it: this run's statement signed with their own SSH key, verified by the worker. */
async function approve(stack: TestStack, changeId: string, status: ChangeStatus, approver: string): Promise<void> {
  const statement = statementFor(status, 'approve', approver)!;
  const signature = signStatement(statement, keyOf(stack, approver));
  await stack.client.workflow.getHandle(`change:${changeId}`).executeUpdate(approveUpdate, { args: [{ approver, statement, signature }] });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Requests that took a permit of the Genesys budget since `sinceMs` (every Genesys API request but the token's). */
async function genesysRequestsSince(stack: TestStack, sinceMs: number): Promise<number> {
  const { requests } = await stack.emulator.admin<{ requests: { path: string }[] }>('GET', `/requests?since=${encodeURIComponent(new Date(sinceMs).toISOString())}`);
  return requests.filter((request) => request.path.startsWith('/api/v2/')).length;
}

/**
 * One change after another, each no sooner than the Genesys requests of the one before (plan read, the approvals'
 * live checks, deploy read, write, read-back, the audit's read — counted from the emulator's request log, so a new
 * step in the flow cannot drain the budget unnoticed) are replenished by the budget: what is measured is the latency of a change when the budget is not exhausted (the
 * gate's own cost plus the permits' cost under budget). Faster than that, every request would rightly wait for its
 * permit, and the figure would be the budget's rate, not the gate's latency (the concurrent scenario shows that).
 */
async function sequential(stack: TestStack, requestsPerMinute: number): Promise<BudgetFigures['sequential']> {
  const latencies: number[] = [];
  const calls: number[] = [];
  const hops: Record<string, number>[] = [];
  const tasks: { workflowTasks: number; activities: number }[] = [];
  const { intervalMs } = gcraParameters(requestsPerMinute, 60_000 + stack.config.genesys.budgetMarginMs);
  let replenished = Promise.resolve();
  for (let i = 0; i < CHANGES; i++) {
    await replenished;
    const cycleStarted = Date.now();
    const target = await seed(stack, { greeting: 'hello', queue: 'sales' });
    const { changeId, status: plannedStatus } = await planned(stack, target, { greeting: `welcome ${i}` });
    await approve(stack, changeId, plannedStatus, 'bob');
    await approve(stack, changeId, plannedStatus, 'carol');
    const status = await statusWhen(stack.client, changeId, settled, 100);
    if (status.state !== 'deployed' && status.state !== 'audited') throw new Error(`change ${changeId} ended ${status.state}: ${status.stateReason}`);
    const [from, to] = [Date.parse(status.timestamps.approved!), Date.parse(status.timestamps.deployed!)];
    latencies.push(to - from);
    calls.push(status.deploy!.genesysCalls);
    const own = (await stack.client.workflow.getHandle(`change:${changeId}`).fetchHistory()).events ?? [];
    const lock = (await stack.client.workflow.getHandle(targetWorkflowId(status.target)).fetchHistory()).events ?? [];
    hops.push(breakdown(own, [{ prefix: 'target: ', events: lock }], from, to));
    replenished = (async () => {
      // Once the change's audit has made its reads (the change is audited), wait until every permit this cycle
      // took is back.
      await statusWhen(stack.client, changeId, (current) => current.state === 'audited', 100);
      const taken = await genesysRequestsSince(stack, cycleStarted);
      const rest = Math.ceil(taken * intervalMs * 1.1) - (Date.now() - cycleStarted);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    })();
    if (DUMP_HISTORIES) writeFileSync(join(DUMP_HISTORIES, `${changeId}.json`), JSON.stringify({ approvedMs: from, deployedMs: to, change: own, target: lock }));
    tasks.push(hopCounts(own, from, to));
  }
  latencies.sort((a, b) => a - b);
  return {
    changes: CHANGES,
    medianMs: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: round(latencies[latencies.length - 1] ?? 0, 1),
    genesysCallsPerChange: { median: median(calls), max: Math.max(...calls) },
    hops: medianHops(hops),
    tasksPerChange: { workflowTasks: median(tasks.map((t) => t.workflowTasks)), activities: median(tasks.map((t) => t.activities)) },
  };
}

async function concurrent(stack: TestStack, uiEditEveryMs?: number): Promise<ConcurrentFigures & { uiEdits: number }> {
  const target = await seed(stack, { greeting: 'hello', queue: 'sales' });
  const changes = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => planned(stack, target, { [`option${i}`]: `press ${i}` })));
  await Promise.all(changes.map(({ changeId, status }) => approve(stack, changeId, status, 'bob')));

  let uiEdits = 0;
  let editing = uiEditEveryMs !== undefined;
  const editor = (async () => {
    while (editing) {
      await stack.emulator.admin('POST', `/objects/${target.type}/${target.id}/ui-edit`, { user: 'eve', fields: { banner: `edit ${uiEdits}` } });
      uiEdits++;
      await new Promise((resolve) => setTimeout(resolve, uiEditEveryMs));
    }
  })();

  const started = Date.now();
  await Promise.all(changes.map(({ changeId, status }) => approve(stack, changeId, status, 'carol')));
  const statuses = await Promise.all(changes.map(({ changeId }) => statusWhen(stack.client, changeId, settled, 250)));
  const finished = Math.max(...statuses.map((status) => Date.parse(status.timestamps.deployed ?? new Date().toISOString())));
  editing = false;
  await editor;

  const object = (await stack.genesys.getObject(target.type, target.id)) as Record<string, unknown>;
  const allLanded = Array.from({ length: CONCURRENT }, (_, i) => object[`option${i}`] === `press ${i}`).every(Boolean) && object.queue === 'sales';
  const states: Record<string, number> = {};
  for (const status of statuses) states[status.state] = (states[status.state] ?? 0) + 1;
  const calls = statuses.map((status) => status.deploy?.genesysCalls ?? 0);
  return {
    changes: CONCURRENT,
    totalMs: finished - started,
    conflictsRetried: statuses.reduce((total, status) => total + (status.deploy?.conflictsRetried ?? 0), 0),
    allLanded,
    states,
    genesysCallsPerChange: { median: median(calls), max: Math.max(...calls) },
    uiEdits,
  };
}

async function runBudget(stack: TestStack, requestsPerMinute: number): Promise<BudgetFigures> {
  const env = {
    ...stack.env,
    GENESYS_REQUESTS_PER_MINUTE: String(requestsPerMinute),
    WORKER_METRICS_PORT: String(await freePort()),
    TOLLGATE_HEARTBEAT_EVERY: '1h',
    LOG_LEVEL: 'info',
  };
  const receiverPort = await freePort();
  const receivers = await startTollgate('receivers', { ...env, RECEIVER_PORT: String(receiverPort) }, 'receivers listening');
  const worker = await startTollgate('worker', env, 'worker running');
  try {
    // The emulator's audit webhook now points at this receivers process (a fresh subscription per budget).
    await stack.emulator.admin('POST', '/reset');
    const genesys = new GenesysClient(stack.config.genesys, { logger: createLogger({ level: 'warn' }) });
    await wireSandbox({ genesys, emulatorUrl: stack.emulator.url, receiversUrl: `http://127.0.0.1:${receiverPort}`, secrets: stack.secrets, integrationId: stack.integrationId });
    await genesys.close();

    process.stdout.write(`  budget ${requestsPerMinute}/min: ${CHANGES} sequential changes…\n`);
    const seq = await sequential(stack, requestsPerMinute);
    let conc: ConcurrentFigures | undefined;
    let withEdits: (ConcurrentFigures & { uiEdits: number }) | undefined;
    if (SCENARIOS.has('concurrent')) {
      process.stdout.write(`  budget ${requestsPerMinute}/min: ${CONCURRENT} concurrent changes to one object…\n`);
      const { uiEdits: _none, ...figures } = await concurrent(stack);
      conc = figures;
    }
    if (SCENARIOS.has('ui-edits')) {
      process.stdout.write(`  budget ${requestsPerMinute}/min: ${CONCURRENT} concurrent changes with UI edits every ${UI_EDIT_EVERY_MS} ms…\n`);
      withEdits = await concurrent(stack, UI_EDIT_EVERY_MS);
    }
    return {
      requestsPerMinute,
      sequential: seq,
      concurrent: conc,
      concurrentWithUiEdits: withEdits,
      worker: worker.stats(),
      receivers: receivers.stats(),
    };
  } finally {
    await worker.stop();
    await receivers.stop();
  }
}

async function main(): Promise<void> {
  // The emulator's own per-token limit is lifted: the budget under test is the gate's (GENESYS_REQUESTS_PER_MINUTE).
  const stack = await startTestStack({
    worker: false,
    receivers: false,
    emulatorSettings: { rateLimits: { perTokenPerMinute: null, perClientPerMinute: null, windowSeconds: 60, resources: [] } },
  });
  const results: BudgetFigures[] = [];
  try {
    for (const budget of BUDGETS) results.push(await runBudget(stack, budget));
  } finally {
    for (const suffix of ['heartbeat', 'reconciliation']) {
      await stack.client.schedule.getHandle(`${stack.taskQueue}:${suffix}`).delete().catch(() => undefined);
    }
    await stack.close();
  }

  const at = new Date().toISOString();
  const json: ChangeLatencyResults = { benchmark: 'change-latency', at, machine: machine(), settings: { changes: CHANGES, concurrent: CONCURRENT, uiEditEveryMs: UI_EDIT_EVERY_MS }, results };
  const markdown = render(json);
  writeResults('change-latency', json, markdown);
  process.stdout.write(`${markdown}\n`);
}

export interface ChangeLatencyResults {
  benchmark: 'change-latency';
  at: string;
  machine: ReturnType<typeof machine>;
  settings: { changes: number; concurrent: number; uiEditEveryMs: number };
  results: BudgetFigures[];
}

/** The markdown summary docs/change-gate.md quotes: one column per Genesys budget, then where the time goes. */
export function render(json: ChangeLatencyResults): string {
  const { results, settings } = json;
  const row = (label: string, cell: (r: BudgetFigures) => string) => `| ${label} | ${results.map(cell).join(' | ')} |`;
  const budget = (r: BudgetFigures) => `${r.requestsPerMinute} Genesys requests/min${r.requestsPerMinute === 300 ? ' (production budget)' : ''}`;
  const concurrentRows = results.every((r) => r.concurrent)
    ? [
        row(`${settings.concurrent} concurrent changes to one object: total`, (r) => `${round(r.concurrent!.totalMs / 1000, 1)} s`),
        row('… conflicts retried / all landed', (r) => `${r.concurrent!.conflictsRetried} / ${r.concurrent!.allLanded ? 'yes' : 'NO'}`),
      ]
    : [];
  const editRows = results.every((r) => r.concurrentWithUiEdits)
    ? [
        row(`… with a UI edit every ${settings.uiEditEveryMs} ms: total`, (r) => `${round(r.concurrentWithUiEdits!.totalMs / 1000, 1)} s`),
        row('… conflicts retried (UI edits) / all landed', (r) => `${r.concurrentWithUiEdits!.conflictsRetried} (${r.concurrentWithUiEdits!.uiEdits}) / ${r.concurrentWithUiEdits!.allLanded ? 'yes' : 'NO'}`),
      ]
    : [];
  const maxCalls = (r: BudgetFigures) => Math.max(r.sequential.genesysCallsPerChange.max, r.concurrent?.genesysCallsPerChange.max ?? 0, r.concurrentWithUiEdits?.genesysCallsPerChange.max ?? 0);
  const hopNames = [...new Set(results.flatMap((r) => r.sequential.hops.map((hop) => hop.hop)))];
  const hopCell = (r: BudgetFigures, name: string) => {
    const hop = r.sequential.hops.find((h) => h.hop === name);
    return hop ? `${hop.medianMs} / ${hop.meanMs}` : '0 / 0';
  };
  const hopTotal = (r: BudgetFigures) => round(r.sequential.hops.reduce((sum, hop) => sum + hop.meanMs, 0), 1);
  return [
    `### Change gate latency (${json.at.slice(0, 10)}, ${json.machine.cpus} CPUs, Node ${json.machine.node})`,
    '',
    `| | ${results.map(budget).join(' | ')} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    row(`Approval → verified, median (${settings.changes} changes)`, (r) => `${r.sequential.medianMs} ms`),
    row('Approval → verified, p99', (r) => `${r.sequential.p99Ms} ms`),
    ...concurrentRows,
    ...editRows,
    row('Genesys calls per change, median / max', (r) => `${r.sequential.genesysCallsPerChange.median} / ${maxCalls(r)}`),
    row('Workflow tasks / activities per change, approval → verified', (r) => `${r.sequential.tasksPerChange?.workflowTasks ?? '–'} / ${r.sequential.tasksPerChange?.activities ?? '–'}`),
    row('Worker: CPU s / peak RSS', (r) => `${r.worker.cpuSeconds} s / ${r.worker.peakRssMb} MB`),
    row('Receivers: CPU s / peak RSS', (r) => `${r.receivers.cpuSeconds} s / ${r.receivers.peakRssMb} MB`),
    '',
    `Where approval → verified goes (ms per change, median / mean over the ${settings.changes} sequential changes; the means add up to the mean latency), read from the change's and its target's histories:`,
    '',
    `| hop | ${results.map(budget).join(' | ')} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    ...hopNames.map((name) => `| ${name} | ${results.map((r) => hopCell(r, name)).join(' | ')} |`),
    `| total (mean) | ${results.map((r) => `${hopTotal(r)}`).join(' | ')} |`,
    '',
    `Approval → verified: changes one after another, each to its own object, from the workflow entering \`approved\` to \`deployed\` ` +
      '(written, read back, compared), both stamped by the workflow. Concurrent: all final approvals sent at once; total from the first ' +
      'sent to the last change verified; the per-object lock serialises the deploys, so conflicts come only from the UI edits (writes ' +
      'outside the gate). Genesys calls per change: plan read, deploy read, write, read-back — more after a 409 (wait, re-read, write ' +
      'again). Hops: a workflow task\'s dispatch wait is from scheduled to picked up by the worker, its run from picked up to completed ' +
      '(local activities — the audit ledger\'s appends — run inside it); an activity\'s dispatch wait and run likewise; `target:` hops are ' +
      'the target workflow\'s tasks while the change waits on it; "waiting for a message" is a signal or update on its way. ' +
      'CPU and peak RSS: the `tollgate worker` and `tollgate receivers` processes over the whole run of that budget.',
  ].join('\n');
}

if (require.main === module) {
  if (process.argv.includes('--render')) {
    // Re-render the markdown from the last results, without running the benchmark.
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    const json = JSON.parse(readFileSync(`${__dirname}/results/change-latency.json`, 'utf8')) as ChangeLatencyResults;
    writeResults('change-latency', json, render(json));
  } else {
    void main().catch((error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    });
  }
}
