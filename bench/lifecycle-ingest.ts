/**
 * Lifecycle receiver ingest: signed events per second and latency through the HTTP receiver
 * (`tollgate receivers`, its own process) into Temporal, against the same events sent straight from a Temporal
 * client (signal-with-start, the ceiling) in the same run. Phases alternate (client, HTTP, client, HTTP, …) so
 * that neither path gets a fresher server. Every event is a new installation (a workflow start + signal). No worker
 * runs: this measures acceptance, not provisioning.
 *
 * Settings: BENCH_INGEST_EVENTS (default 2000 per path), BENCH_INGEST_CONCURRENCY (default 32 in flight),
 * BENCH_INGEST_BURST (default 200 in flight: a second, burst-shaped measurement), BENCH_PROFILE_RECEIVERS (a
 * directory: the receivers process writes a V8 CPU profile there when it stops, to see where its CPU goes).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { signalInstallation } from '../client/installations';
import { forEachLimited } from '../platform/concurrency';
import { LifecyclePayloadSchema, toInstallationEvent } from '../receivers/lifecycle-event';
import { startTestStack, type TestStack } from '../test/harness/stack';
import { freePort, machine, percentile, round, startTollgate, writeResults, type ProcessStats } from './support';

const EVENTS = Number(process.env.BENCH_INGEST_EVENTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_INGEST_CONCURRENCY ?? 32);
const BURST = Number(process.env.BENCH_INGEST_BURST ?? 200);
const ROUNDS = 4;

interface PathFigures {
  events: number;
  errors: number;
  statuses: Record<string, number>;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface Sample {
  latencies: number[];
  errors: number;
  statuses: Record<string, number>;
  elapsedMs: number;
}

function payload(stack: TestStack, runId: string, label: string, index: number): Record<string, unknown> {
  const orgId = `bench-${runId}-${label}-${index}`;
  return {
    event: 'installed',
    integrationId: stack.integrationId,
    orgId,
    tenantId: `tenant_${orgId}`,
    configuration: { crmEndpoint: 'https://acme.salesforce.com', syncInterval: 'PT5M', featureFlags: ['voice_routing', 'omnichannel_queue'] },
    eventTimestamp: new Date().toISOString(),
    metadata: { installedBy: `admin@${orgId}`, source: 'marketplace', sequence: 1 },
  };
}

async function run(count: number, concurrency: number, send: (index: number) => Promise<string>): Promise<Sample> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  const started = performance.now();
  await forEachLimited(
    Array.from({ length: count }, (_, index) => index),
    concurrency,
    async (index) => {
      const t0 = performance.now();
      let status: string;
      try {
        status = await send(index);
      } catch (error) {
        status = `error:${(error as Error).name}`;
      }
      latencies.push(performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== '202' && status !== 'ok') errors++;
    },
  );
  return { latencies, errors, statuses, elapsedMs: performance.now() - started };
}

function figures(samples: Sample[]): PathFigures {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const sample of samples) for (const [k, v] of Object.entries(sample.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const elapsed = samples.reduce((total, s) => total + s.elapsedMs, 0);
  return {
    events: latencies.length,
    errors: samples.reduce((total, s) => total + s.errors, 0),
    statuses,
    eventsPerSecond: round((latencies.length / elapsed) * 1000, 1),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: round(latencies.at(-1) ?? 0, 1),
  };
}

async function main(): Promise<void> {
  const stack = await startTestStack({ worker: false, receivers: false });
  const port = await freePort();
  const profile = process.env.BENCH_PROFILE_RECEIVERS ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_RECEIVERS}`] : [];
  const receivers = await startTollgate('receivers', { ...stack.env, RECEIVER_PORT: String(port), RECEIVER_MAX_IN_FLIGHT: '1024' }, 'receivers listening', profile);
  const url = `http://127.0.0.1:${port}/v1/genesys/lifecycle`;
  const runId = randomUUID().slice(0, 8);

  const viaClient = (label: string) => async (index: number) => {
    const body = payload(stack, runId, label, index);
    await signalInstallation(stack.client, stack.taskQueue, toInstallationEvent(LifecyclePayloadSchema.parse(body), new Date()));
    return 'ok';
  };
  const viaHttp = (label: string) => async (index: number) => {
    const raw = JSON.stringify(payload(stack, runId, label, index));
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-genesys-signature': createHmac('sha256', stack.secrets.lifecycle).update(raw).digest('hex'),
        'x-genesys-event-timestamp': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
      body: raw,
    });
    await response.arrayBuffer();
    return String(response.status);
  };

  try {
    // Warm-up: connections, JIT, the server's caches.
    await run(100, CONCURRENCY, viaClient('warm-client'));
    await run(100, CONCURRENCY, viaHttp('warm-http'));

    const measure = async (concurrency: number, tag: string) => {
      const client: Sample[] = [];
      const http: Sample[] = [];
      let receiverCpu = 0;
      const perRound = Math.ceil(EVENTS / ROUNDS);
      for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
        client.push(await run(perRound, concurrency, viaClient(`${tag}-client-${roundIndex}`)));
        const before = receivers.stats().cpuSeconds;
        http.push(await run(perRound, concurrency, viaHttp(`${tag}-http-${roundIndex}`)));
        receiverCpu += receivers.stats().cpuSeconds - before;
      }
      const clientFigures = figures(client);
      const httpFigures = figures(http);
      return {
        concurrency,
        client: clientFigures,
        http: httpFigures,
        ratio: round(httpFigures.eventsPerSecond / clientFigures.eventsPerSecond, 2),
        receiverCpuSecondsDuringHttp: round(receiverCpu, 2),
        receiverCpuMsPerEvent: round((receiverCpu * 1000) / httpFigures.events, 2),
      };
    };

    const steady = await measure(CONCURRENCY, 'steady');
    const burst = await measure(BURST, 'burst');
    const receiverStats: ProcessStats = await receivers.stop();
    const result = {
      benchmark: 'lifecycle-ingest',
      at: new Date().toISOString(),
      machine: machine(),
      eventsPerPath: EVENTS,
      steady,
      burst,
      receiverProcess: receiverStats,
      notes: [
        'client = signal-with-start of installation:<org>:<integration> from a Temporal client in the benchmark process (parse + identity included)',
        'http = the same events signed (HMAC-SHA256) and POSTed to `tollgate receivers` in its own process; 2xx only after Temporal accepted',
        'every event is a new installation workflow; no worker runs during the measurement',
        'Temporal: the dev server (SQLite) of `npm run bench`, on the same machine',
      ],
    };
    const row = (label: string, figures: PathFigures) =>
      `| ${label} | ${figures.events} | ${figures.eventsPerSecond} | ${figures.p50Ms} | ${figures.p99Ms} | ${figures.maxMs} | ${figures.errors} |`;
    const markdown = [
      `### Lifecycle ingest (${result.at.slice(0, 10)}, ${result.machine.cpus} CPUs, Node ${result.machine.node})`,
      '',
      '| path | events | events/s | p50 ms | p99 ms | max ms | non-2xx / errors |',
      '|---|---|---|---|---|---|---|',
      row(`Temporal client, ${steady.concurrency} in flight`, steady.client),
      row(`HTTP receiver, ${steady.concurrency} in flight`, steady.http),
      row(`Temporal client, ${burst.concurrency} in flight`, burst.client),
      row(`HTTP receiver, ${burst.concurrency} in flight`, burst.http),
      '',
      `Ratio HTTP / client: **${steady.ratio}** at ${steady.concurrency} in flight, **${burst.ratio}** at ${burst.concurrency} in flight.`,
      `Receiver CPU per event: **${steady.receiverCpuMsPerEvent} ms** at ${steady.concurrency} in flight, **${burst.receiverCpuMsPerEvent} ms** at ${burst.concurrency} in flight (CPU of the receivers process during the HTTP phases ÷ events).`,
      `Receiver process: ${receiverStats.cpuSeconds} CPU s in total (${steady.receiverCpuSecondsDuringHttp} s for the steady HTTP phases, ${burst.receiverCpuSecondsDuringHttp} s for the burst ones), peak RSS ${receiverStats.peakRssMb} MB.`,
      `HTTP statuses: steady ${JSON.stringify(steady.http.statuses)}, burst ${JSON.stringify(burst.http.statuses)}.`,
    ].join('\n');
    writeResults('lifecycle-ingest', result, markdown);
    process.stdout.write(`${markdown}\n`);
  } finally {
    if (receivers.child.exitCode === null) await receivers.stop().catch(() => undefined);
    await stack.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
