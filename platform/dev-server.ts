/**
 * Runs the Temporal CLI's dev server (frontend + Web UI) as a child process, with the project's search attributes
 * registered. With a database file its state survives restarts; without one it lives in memory (tests).
 *
 * It starts tuned for latency (issue 14): the dev server's history service moves every new task (a workflow task
 * after an activity completed, an activity to schedule, a signal to another workflow) from its transfer queue to
 * matching by polling that queue at most `history.transferProcessorMaxPollRPS` times a second — 20 by default, so
 * each hop of a workflow waited up to 50 ms (about 30 ms on average) for the next poll. LATENCY_DYNAMIC_CONFIG lifts
 * that floor; docs/operations.md says what the same settings are on a cluster.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { createConnection } from 'node:net';
import { searchAttributeFlags } from './search-attributes';

export interface DevServerOptions {
  binary: string;
  host?: string;
  port: number;
  uiPort?: number;
  /** Omit for an in-memory server. */
  dbFile?: string;
  namespace?: string;
  /** No Web UI (tests). */
  headless?: boolean;
  /** Where the server's own output goes (a log file stream, or 'ignore'). */
  output?: NodeJS.WritableStream | 'ignore';
  readyTimeoutMs?: number;
  /**
   * How long the namespace keeps closed workflows, set explicitly once the server listens (the dev server's own
   * default is 24 h). Tollgate's audit ledger does not depend on it (ledger/audit-ledger.ts); `change status` and
   * `change rollback` read Temporal while it still has the workflow.
   */
  retentionMs?: number;
  /** Dynamic configuration (`--dynamic-config-value KEY=JSON`); LATENCY_DYNAMIC_CONFIG unless given ({} for none). */
  dynamicConfig?: Record<string, unknown>;
}

/**
 * The dev server's dynamic configuration for latency (measured: bench/results/change-latency.md): the poll-rate
 * floor of the history service's transfer queue (every workflow task, activity task and cross-workflow signal).
 * The timer and visibility queues' floors were not measured to matter; docs/operations.md gives the cluster
 * equivalent.
 */
export const LATENCY_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = {
  'history.transferProcessorMaxPollRPS': 1000,
};

/** `--dynamic-config-value` flags; values are JSON, as the CLI expects. */
export function dynamicConfigFlags(values: Record<string, unknown>): string[] {
  return Object.entries(values).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]);
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const host = options.host ?? '127.0.0.1';
  if (await portOpen(host, options.port)) {
    throw new Error(
      `port ${options.port} on ${host} is already in use: another Temporal server (or program) runs there. ` +
        'Stop it, set TEMPORAL_PORT to another port, or set TEMPORAL_ADDRESS to use that server.',
    );
  }
  const args = ['server', 'start-dev', '--ip', host, '--port', String(options.port), '--log-level', 'warn'];
  args.push('--namespace', options.namespace ?? 'default');
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.headless) args.push('--headless');
  else if (options.uiPort) args.push('--ui-port', String(options.uiPort), '--ui-ip', host);
  args.push(...searchAttributeFlags());
  args.push(...dynamicConfigFlags(options.dynamicConfig ?? LATENCY_DYNAMIC_CONFIG));

  const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const sink = options.output;
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      if (output.length < 20_000) output += chunk.toString();
      if (sink && sink !== 'ignore') sink.write(chunk);
    });
  }
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (!(await portOpen(host, options.port))) {
    if (exited !== undefined) throw new Error(`temporal dev server exited with code ${exited}:\n${output.slice(-4000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal dev server did not listen on ${host}:${options.port} in time:\n${output.slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  if (options.retentionMs !== undefined) {
    await setNamespaceRetention(options.binary, `${host}:${options.port}`, options.namespace ?? 'default', options.retentionMs).catch((error) => {
      child.kill('SIGKILL');
      throw error;
    });
  }

  return {
    address: `${host}:${options.port}`,
    uiUrl: options.headless || !options.uiPort ? undefined : `http://${host}:${options.uiPort}`,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** `temporal operator namespace update --retention`, retried while the fresh server finishes registering it. */
async function setNamespaceRetention(binary: string, address: string, namespace: string, retentionMs: number): Promise<void> {
  const hours = Math.max(1, Math.round(retentionMs / 3_600_000));
  const args = ['operator', 'namespace', 'update', '--address', address, '--namespace', namespace, '--retention', `${hours}h`];
  let lastError: unknown;
  for (let attempt = 0; attempt < 20; attempt += 1) {
    try {
      await promisify(execFile)(binary, args, { timeout: 10_000 });
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`could not set the retention of namespace ${namespace}: ${(lastError as Error).message}`);
}

/** A free TCP port on loopback, for servers that take a port number rather than 0. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
