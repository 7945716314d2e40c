/**
 * What the lifecycle benchmarks share: `tollgate worker` / `tollgate receivers` as child processes (so their CPU
 * and memory are their own), /proc sampling of those processes, percentiles, and writing results.
 *
 * CPU seconds are utime + stime from /proc/<pid>/stat (the process and its threads, not its children); peak memory
 * is VmHWM from /proc/<pid>/status (the resident-set high-water mark). Both are read just before the process stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';

export const RESULTS_DIR = join(__dirname, 'results');
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessStats {
  cpuSeconds: number;
  peakRssMb: number;
}

export function processStats(pid: number): ProcessStats {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which is parenthesised and may contain spaces).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = /VmHWM:\s+(\d+)\s+kB/.exec(status);
  return {
    cpuSeconds: round((utime + stime) / CLOCK_TICKS_PER_SECOND, 2),
    peakRssMb: round(hwm ? Number(hwm[1]) / 1024 : 0, 1),
  };
}

/** /proc/<pid>/stat fields after the command name: utime is [11], stime [12], cutime [13], cstime [14] (ticks). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // gone
  }
}

/**
 * CPU seconds of a process and everything under it: its own and its reaped children's (cutime, cstime), plus every
 * live descendant's. For servers that fork (PostgreSQL's backends) or run threads (the Temporal dev server).
 */
export function treeCpuSeconds(rootPid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (!fields) continue;
    const parent = Number(fields[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  let ticks = 0;
  const visit = (pid: number) => {
    const fields = statFields(pid);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(rootPid);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** The parent of a process (e.g. the PostgreSQL postmaster of a backend), undefined when it is gone. */
export function parentPid(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? Number(fields[1]) : undefined;
}

/** CPU seconds the whole machine spent busy (all processes, all cores) since boot, from /proc/stat. */
export function machineBusySeconds(): number {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = values.map(Number);
  return (user + nice + system + irq + softirq + (steal ?? 0)) / CLOCK_TICKS_PER_SECOND;
}

export interface TollgateProcess {
  child: ChildProcess;
  stats(): ProcessStats;
  stop(): Promise<ProcessStats>;
}

/** Starts `node [nodeOptions] bin/tollgate.js <command>` and resolves once its log says `readyText`. */
export function startTollgate(
  command: 'worker' | 'receivers',
  env: Record<string, string | undefined>,
  readyText: string,
  nodeOptions: string[] = [],
): Promise<TollgateProcess> {
  return startNodeProcess([...nodeOptions, join(__dirname, '..', 'bin', 'tollgate.js'), command], env, readyText, `tollgate ${command}`);
}

/** Starts a benchmark's own TypeScript program (e.g. bench/storm-ceiling-worker.ts) the way tsx runs the CLI. */
export function startBenchProgram(file: string, env: Record<string, string | undefined>, readyText: string): Promise<TollgateProcess> {
  return startNodeProcess(['--require', 'tsx/cjs', join(__dirname, file)], env, readyText, file);
}

function startNodeProcess(args: string[], env: Record<string, string | undefined>, readyText: string, name: string): Promise<TollgateProcess> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
      if (output.includes(readyText)) {
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        // Keep draining so the child never blocks on a full pipe.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({
          child,
          stats: () => processStats(child.pid as number),
          async stop() {
            const stats = processStats(child.pid as number);
            if (child.exitCode === null && child.signalCode === null) {
              const exited = new Promise((done) => child.once('exit', done));
              child.kill('SIGTERM');
              const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
              await exited;
              clearTimeout(timer);
            }
            return stats;
          },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${output.slice(-3000)}`)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return 0;
  const index = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return round(sortedMs[index], 1);
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Writes a benchmark's figures to bench/results/<name>.json and .md (the docs quote them). */
export function writeResults(name: string, json: unknown, markdown: string): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(RESULTS_DIR, `${name}.md`), markdown.endsWith('\n') ? markdown : `${markdown}\n`);
}

export function machine(): { cpus: number; node: string; model: string } {
  let model = 'unknown';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // not Linux
  }
  return { cpus: cpus().length, node: process.version, model };
}
