/**
 * The cost of the shared Genesys request budget (genesys/request-budget.ts) when it is idle — the price every
 * request pays even when nothing needs to wait: permits taken one after another on a budget far from its limit,
 * from one process, and from three pools at once (as three worker processes would), against the PostgreSQL the
 * benchmark runner started. Writes bench/results/genesys-budget.json and .md.
 */
import { Pool } from 'pg';
import { RequestBudget } from '../genesys/request-budget';
import { machine, percentile, round, writeResults } from './support';

const PERMITS = 2000;

async function measure(budget: RequestBudget, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    await budget.take('GET', '/api/v2/architect/schedules/x');
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples;
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { permits: sorted.length, meanMs: round(mean, 3), p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: round(sorted[sorted.length - 1], 1) };
}

async function main(): Promise<void> {
  const url = process.env.TOLLGATE_TEST_DATABASE_URL;
  if (!url) throw new Error('run through `npm run bench genesys-budget` (it starts PostgreSQL)');
  const scope = `bench-${Date.now()}`;
  // Far from its limit: every permit is granted at once; what is measured is the round trip and the row update.
  const options = { scope, perMinute: 10_000_000, resources: [{ method: 'GET', pathPrefix: '/api/v2/architect/', perMinute: 5_000_000 }], marginMs: 1000 };
  const pools = [0, 1, 2].map(() => new Pool({ connectionString: url, max: 2 }));
  try {
    const single = new RequestBudget(pools[0], options);
    await measure(single, 50); // warm-up: connections, plans
    const alone = summary(await measure(single, PERMITS));
    const budgets = pools.map((pool) => new RequestBudget(pool, options));
    const together = (await Promise.all(budgets.map((budget) => measure(budget, PERMITS / 2)))).flat();
    const three = summary(together);
    const result = { date: new Date().toISOString(), machine: machine(), oneProcess: alone, threeProcesses: three };
    const md = [
      '<!-- figures:genesys-budget -->',
      `### Shared request budget, idle (${result.date.slice(0, 10)}, ${result.machine.cpus} CPUs, Node ${result.machine.node})`,
      '',
      '| | permits | mean | p50 | p99 | max |',
      '|---|---|---|---|---|---|',
      `| one process, one after another | ${alone.permits} | ${alone.meanMs} ms | ${alone.p50Ms} ms | ${alone.p99Ms} ms | ${alone.maxMs} ms |`,
      `| three pools at once (three workers) | ${three.permits} | ${three.meanMs} ms | ${three.p50Ms} ms | ${three.p99Ms} ms | ${three.maxMs} ms |`,
      '',
      'Each permit is one call of `tollgate.take_genesys_permit` (the client budget and one resource budget, rows locked in order) on a budget far from its limit: the cost every Genesys request pays when nothing has to wait.',
      '<!-- /figures:genesys-budget -->',
    ].join('\n');
    writeResults('genesys-budget', result, md);
    process.stdout.write(`${md}\n`);
  } finally {
    await Promise.all(pools.map((pool) => pool.end()));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
