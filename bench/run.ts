/**
 * `npm run bench [name …]`: runs the benchmarks one after another against one Temporal dev server and one
 * PostgreSQL (started here exactly as the tests start them), each in its own process so that CPU and memory
 * figures are its own. Each benchmark writes its figures to bench/results/<name>.json and .md; docs quote them.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServices } from '../test/global-setup';
import globalTeardown from '../test/global-teardown';

const here = __dirname;
const NOT_BENCHMARKS = new Set(['run.ts', 'support.ts', 'history-breakdown.ts', 'storm-ceiling-worker.ts', 'ingest-floor-receiver.ts']);

function benchmarks(): string[] {
  return readdirSync(here)
    .filter((file) => file.endsWith('.ts') && !NOT_BENCHMARKS.has(file))
    .map((file) => file.replace(/\.ts$/, ''))
    .sort();
}

/**
 * BENCH_DEV_SERVER_CONFIG: the dev server's dynamic configuration as JSON (`{}` = the dev server's own defaults, to
 * compare with the tuned default of `npm start` and the tests).
 */
function devServerDynamicConfig(): Record<string, unknown> | undefined {
  const json = process.env.BENCH_DEV_SERVER_CONFIG;
  if (!json) return undefined;
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('BENCH_DEV_SERVER_CONFIG must be a JSON object');
  return parsed as Record<string, unknown>;
}

function runOne(name: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(here, `${name}.ts`)], { stdio: 'inherit', env: process.env });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<void> {
  const all = benchmarks();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !all.includes(name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}\n`);
    process.exit(2);
  }
  const selected = wanted.length > 0 ? wanted : all;
  const services = await startTestServices({ devServerDynamicConfig: devServerDynamicConfig() });
  // The benchmarks report the dev server's CPU too.
  process.env.BENCH_TEMPORAL_PID = String(services.server.process.pid);
  let failed = 0;
  try {
    for (const name of selected) {
      process.stdout.write(`\n== bench ${name}\n`);
      const code = await runOne(name);
      if (code !== 0) {
        failed++;
        process.stderr.write(`bench ${name} exited with ${code}\n`);
      }
    }
  } finally {
    await globalTeardown();
  }
  process.stdout.write(`\nResults in ${join(here, 'results')}\n`);
  process.exit(failed > 0 ? 1 : 0);
}

void main();
