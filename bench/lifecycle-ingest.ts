/**
 * Lifecycle receiver ingest: signed events per second and latency through the HTTP receiver
 * (`tollgate receivers`, its own process) into Temporal, against the same events sent straight from a Temporal
 * client (signal-with-start, the ceiling) in the same run, and through two floor receivers (bench/ingest-floor-
 * receiver.ts: HTTP + the Temporal call and nothing else, over grpc-js and over the native connection) that say what
 * any receiver costs on this machine. Phases alternate (client, receivers, floors, client, …) so that no path gets a
 * fresher server. Every event is a new installation (a workflow start + signal). No worker runs: this measures
 * acceptance, not provisioning. Rates count accepted (2xx) events only.
 *
 * Settings: BENCH_INGEST_EVENTS (default 2000 per path), BENCH_INGEST_CONCURRENCY (default 32 in flight),
 * BENCH_INGEST_BURST (default 200 in flight: a second, burst-shaped measurement), BENCH_PROFILE_RECEIVERS (a
 * directory: the receivers process writes a V8 CPU profile there when it stops, to see where its CPU goes).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { signalInstallation } from '../client/installations';
import { forEachLimited } from '../platform/concurrency';
import { LIFECYCLE_PATH } from '../receivers/lifecycle';
import { LifecyclePayloadSchema, toInstallationEvent } from '../receivers/lifecycle-event';
import { startTestStack, type TestStack } from '../test/harness/stack';
import { freePort, machine, percentile, round, startBenchProgram, startTollgate, writeResults, type ProcessStats, type TollgateProcess } from './support';

const EVENTS = Number(process.env.BENCH_INGEST_EVENTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_INGEST_CONCURRENCY ?? 32);
const BURST = Number(process.env.BENCH_INGEST_BURST ?? 200);
const ROUNDS = 4;

interface PathFigures {
  events: number;
  /** Answered 2xx (HTTP) or resolved (client): the event is in Temporal. */
  accepted: number;
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
      if (status !== 'ok' && !/^2\d\d$/.test(status)) errors++;
    },
  );
  return { latencies, errors, statuses, elapsedMs: performance.now() - started };
}

function figures(samples: Sample[]): PathFigures {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const sample of samples) for (const [k, v] of Object.entries(sample.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const elapsed = samples.reduce((total, s) => total + s.elapsedMs, 0);
  const accepted = Object.entries(statuses)
    .filter(([status]) => status === 'ok' || /^2\d\d$/.test(status))
    .reduce((total, [, count]) => total + count, 0);
  return {
    events: latencies.length,
    accepted,
    errors: samples.reduce((total, s) => total + s.errors, 0),
    statuses,
    eventsPerSecond: round((accepted / elapsed) * 1000, 1),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: round(latencies.at(-1) ?? 0, 1),
  };
}

/** An HTTP receiver measured beside the client: `tollgate receivers`, or a floor receiver. */
interface Receiver {
  key: 'receivers' | 'floorGrpcJs' | 'floorNative';
  label: string;
  url: string;
  process: TollgateProcess;
}

async function main(): Promise<void> {
  const stack = await startTestStack({ worker: false, receivers: false });
  const profile = process.env.BENCH_PROFILE_RECEIVERS ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_RECEIVERS}`] : [];
  const receivers: Receiver[] = [];
  const runId = randomUUID().slice(0, 8);

  const viaClient = (label: string) => async (index: number) => {
    const body = payload(stack, runId, label, index);
    await signalInstallation(stack.client, stack.taskQueue, toInstallationEvent(LifecyclePayloadSchema.parse(body), new Date()));
    return 'ok';
  };
  const viaHttp = (url: string, label: string) => async (index: number) => {
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
    const port = await freePort();
    const env = { ...stack.env, RECEIVER_PORT: String(port), RECEIVER_MAX_IN_FLIGHT: '1024' };
    receivers.push({
      key: 'receivers',
      label: 'HTTP receiver (`tollgate receivers`)',
      url: `http://127.0.0.1:${port}${LIFECYCLE_PATH}`,
      process: await startTollgate('receivers', env, 'receivers listening', profile),
    });
    for (const [key, connection, label] of [
      ['floorGrpcJs', 'grpc-js', 'floor receiver, grpc-js client'],
      ['floorNative', 'native', 'floor receiver, native client'],
    ] as const) {
      const floorPort = await freePort();
      receivers.push({
        key,
        label,
        url: `http://127.0.0.1:${floorPort}${LIFECYCLE_PATH}`,
        process: await startBenchProgram('ingest-floor-receiver.ts', { ...stack.env, RECEIVER_PORT: String(floorPort), INGEST_FLOOR_CONNECTION: connection }, 'floor receiver listening'),
      });
    }

    // Warm-up: connections, JIT, the server's caches.
    await run(100, CONCURRENCY, viaClient('warm-client'));
    for (const receiver of receivers) await run(100, CONCURRENCY, viaHttp(receiver.url, `warm-${receiver.key}`));

    const measure = async (concurrency: number, tag: string) => {
      const client: Sample[] = [];
      const http = new Map<Receiver, { samples: Sample[]; cpuSeconds: number }>(receivers.map((r) => [r, { samples: [], cpuSeconds: 0 }]));
      const perRound = Math.ceil(EVENTS / ROUNDS);
      // Phases alternate (client, each receiver, client, …) so that no path gets a fresher server.
      for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
        client.push(await run(perRound, concurrency, viaClient(`${tag}-client-${roundIndex}`)));
        for (const receiver of receivers) {
          const entry = http.get(receiver) as { samples: Sample[]; cpuSeconds: number };
          const before = receiver.process.stats().cpuSeconds;
          entry.samples.push(await run(perRound, concurrency, viaHttp(receiver.url, `${tag}-${receiver.key}-${roundIndex}`)));
          entry.cpuSeconds += receiver.process.stats().cpuSeconds - before;
        }
      }
      const clientFigures = figures(client);
      const paths = receivers.map((receiver) => {
        const entry = http.get(receiver) as { samples: Sample[]; cpuSeconds: number };
        const pathFigures = figures(entry.samples);
        return {
          key: receiver.key,
          label: receiver.label,
          ...pathFigures,
          ratio: round(pathFigures.eventsPerSecond / clientFigures.eventsPerSecond, 2),
          cpuSeconds: round(entry.cpuSeconds, 2),
          cpuMsPerAcceptedEvent: round((entry.cpuSeconds * 1000) / Math.max(1, pathFigures.accepted), 2),
        };
      });
      return { concurrency, client: clientFigures, paths };
    };

    const steady = await measure(CONCURRENCY, 'steady');
    const burst = await measure(BURST, 'burst');
    const processes: Record<string, ProcessStats> = {};
    for (const receiver of receivers) processes[receiver.key] = await receiver.process.stop();
    const result = {
      benchmark: 'lifecycle-ingest',
      at: new Date().toISOString(),
      machine: machine(),
      eventsPerPath: EVENTS,
      steady,
      burst,
      processes,
      notes: [
        'client = signal-with-start of installation:<org>:<integration> from a Temporal client (grpc-js Connection) in the benchmark process (parse + identity included)',
        'receivers = the same events signed (HMAC-SHA256) and POSTed to `tollgate receivers` in its own process; 2xx only after Temporal accepted',
        'floor = bench/ingest-floor-receiver.ts in its own process: node:http, the same parse, identity and signal-with-start, nothing else (no signature check, express, flood guard, ack deadline, logs, metrics), over grpc-js or the native (Rust core) connection',
        'events/s and ratios count accepted events (2xx) only: a 503 is an event the sender must deliver again',
        'CPU per event = CPU of that receiver process during its own phases ÷ accepted events',
        'every event is a new installation workflow; no worker runs during the measurement',
        'Temporal: the dev server (SQLite) of `npm run bench`, on the same machine',
      ],
    };
    const rows = (set: typeof steady) => [
      `| Temporal client, ${set.concurrency} in flight | ${set.client.accepted} / ${set.client.events} | ${set.client.eventsPerSecond} | 1 | ${set.client.p50Ms} | ${set.client.p99Ms} | ${set.client.errors} | — |`,
      ...set.paths.map(
        (path) =>
          `| ${path.label}, ${set.concurrency} in flight | ${path.accepted} / ${path.events} | ${path.eventsPerSecond} | ${path.ratio} | ${path.p50Ms} | ${path.p99Ms} | ${path.errors} | ${path.cpuMsPerAcceptedEvent} |`,
      ),
    ];
    const receiversAt = (set: typeof steady) => set.paths.find((path) => path.key === 'receivers') as (typeof set.paths)[number];
    const markdown = [
      `### Lifecycle ingest (${result.at.slice(0, 10)}, ${result.machine.cpus} CPUs, Node ${result.machine.node})`,
      '',
      '| path | accepted / sent | accepted events/s | ÷ client | p50 ms | p99 ms | non-2xx / errors | receiver CPU ms per event |',
      '|---|---|---|---|---|---|---|---|',
      ...rows(steady),
      ...rows(burst),
      '',
      `Ratio \`tollgate receivers\` / client: **${receiversAt(steady).ratio}** at ${steady.concurrency} in flight, **${receiversAt(burst).ratio}** at ${burst.concurrency} in flight.`,
      `Receiver CPU per accepted event: **${receiversAt(steady).cpuMsPerAcceptedEvent} ms** at ${steady.concurrency} in flight, **${receiversAt(burst).cpuMsPerAcceptedEvent} ms** at ${burst.concurrency} in flight; the floor receivers (HTTP + the Temporal call, nothing else) in the rows below it.`,
      `Peak RSS: ${Object.entries(processes)
        .map(([key, stats]) => `${key} ${stats.peakRssMb} MB`)
        .join(', ')}.`,
      `HTTP statuses: ${[steady, burst].map((set) => `at ${set.concurrency} in flight ${set.paths.map((path) => `${path.key} ${JSON.stringify(path.statuses)}`).join(', ')}`).join('; ')}.`,
    ].join('\n');
    writeResults('lifecycle-ingest', result, markdown);
    process.stdout.write(`${markdown}\n`);
  } finally {
    for (const receiver of receivers) if (receiver.process.child.exitCode === null) await receiver.process.stop().catch(() => undefined);
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
