/**
 * The long-running commands: `dev` (everything), `worker` and `receivers` (the two halves, for production, any
 * number of each against one namespace), and `emulator`.
 *
 * `--json`: once running, the process prints its start-up report (URLs, settings that matter) as one JSON document
 * on stdout and sends its logs (JSON lines) to stderr, so that `… --json | head -1 | jq` reads the report.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { createActivities } from '../activities';
import pino from 'pino';
import { ZodError } from 'zod';
import { connectClient, temporalAddress } from '../client/connection';
import { runEmulator } from '../emulator/main';
import { approvalSourcesProblems } from '../approvals/approval-sources';
import { ConfigError, loadConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { migrateDatabase } from '../platform/migrations';
import { startDatabase } from '../platform/postgres';
import { installTemporalRuntime } from '../platform/temporal-runtime';
import { startReceivers } from '../receivers/server';
import { ensureSchedules } from '../schedules';
import { ensureEventDeliveries } from '../client/event-delivery';
import { startAuditChannel } from '../listeners/audit-channel';
import { closeTollgatePools } from '../platform/tollgate-database';
import { buildActivityDeps, connectWorker, createWorkers, runWorkers } from '../worker';
import { genesysTaskQueue } from '../workflows/task-queues';
import { runDev } from './dev';
import { printStartupReport, RECEIVER_ROUTES } from './startup-report';

interface ProcessOptions {
  json?: boolean;
}

/** Logs go to stderr when stdout carries the start-up report. */
/**
 * Logs of the long-running processes go out asynchronously: a line is written at once when the stream is idle, and
 * lines logged while a write is in flight go out together with the next one (one syscall under load, not one per
 * line). pino flushes what is left synchronously when the process exits.
 */
function logDestination(options: ProcessOptions) {
  return { destination: pino.destination({ dest: options.json ? 2 : 1, sync: false }) };
}

/** A signal that aborts when the process is asked to stop (SIGINT / SIGTERM). */
function untilSignal(): { signal: AbortSignal } {
  const controller = new AbortController();
  for (const name of ['SIGINT', 'SIGTERM'] as const) process.once(name, () => controller.abort());
  return { signal: controller.signal };
}

export async function runWorkerProcess(options: ProcessOptions = {}): Promise<void> {
  const config = loadConfig();
  // Refuse to start, naming every missing setting at once, rather than run half-configured:
  // - outside sandbox mode an embedded PostgreSQL per worker process would give each scaled-out worker its own
  //   ledger and inventory: the database must be one, shared, and configured;
  // - without allowed signers or a Git host, no approval could ever be proven.
  const problems = approvalSourcesProblems(config);
  if (!config.sandbox && !config.lifecycle.databaseUrl) {
    problems.unshift('DATABASE_URL: required outside sandbox mode (the audit ledger and the installations inventory live there); set DATABASE_URL or DATABASE_URL_FILE');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const logger = createLogger({ level: config.logLevel, name: 'tollgate-worker', ...logDestination(options) });
  installTemporalRuntime({ logger, metricsBindAddress: `0.0.0.0:${config.worker.metricsPort}` });
  const { signal } = untilSignal();
  const database = await startDatabase({ url: config.lifecycle.databaseUrl, dataDir: join(config.home, 'postgres'), logger });
  await migrateDatabase(database.url, logger);
  const client = await connectClient(config.temporal);
  const connection = await connectWorker(config);
  const deps = buildActivityDeps({ config, logger, temporal: client, databaseUrl: database.url });
  const workers = await createWorkers({ config, connection, activities: createActivities(deps), logger });
  const schedules = await ensureSchedules(client, config);
  const deliveries = await ensureEventDeliveries(client, config);
  const channel = startAuditChannel({ config, logger, temporal: client, genesys: deps.genesys, databaseUrl: database.url });
  logger.info({ taskQueue: config.temporal.taskQueue, schedules, eventDeliveries: deliveries, metricsPort: config.worker.metricsPort }, 'worker running');
  if (options.json) {
    printStartupReport({
      process: 'worker',
      temporal: { address: temporalAddress(config.temporal), namespace: config.temporal.namespace },
      taskQueues: [config.temporal.taskQueue, genesysTaskQueue(config.temporal.taskQueue)],
      metricsUrl: `http://0.0.0.0:${config.worker.metricsPort}/metrics`,
      schedules,
      eventDeliveries: deliveries,
      database: database.embedded ? 'embedded' : 'DATABASE_URL',
      sandbox: config.sandbox,
      genesys: config.sandbox ? 'sandbox (the emulator)' : config.genesys.apiBase,
    });
  }
  await runWorkers(workers, signal);
  await channel.stop();
  await closeTollgatePools();
  await connection.close();
  await deps.genesys.close();
  await client.connection.close();
  await database.stop();
  logger.info('worker stopped');
}

export async function runReceiversProcess(options: ProcessOptions = {}): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'tollgate-receivers', ...logDestination(options) });
  const { signal } = untilSignal();
  const receivers = await startReceivers({ config, logger });
  logger.info({ url: receivers.url }, 'receivers listening');
  if (options.json) {
    printStartupReport({
      process: 'receivers',
      url: receivers.url,
      routes: RECEIVER_ROUTES,
      temporal: { address: temporalAddress(config.temporal), namespace: config.temporal.namespace },
      taskQueue: config.temporal.taskQueue,
      ackTimeoutMs: config.receivers.ackTimeoutMs,
    });
  }
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await receivers.close();
  logger.info('receivers stopped');
}

export function registerProcessCommands(program: Command): void {
  const json = '--json';
  const jsonHelp = 'once running, print the start-up report (URLs, settings) as one JSON document on stdout; logs go to stderr';
  program
    .command('dev')
    .description('start the whole stack on this machine: Temporal dev server, PostgreSQL, emulator, worker, receivers')
    .option(json, jsonHelp)
    .action((options: ProcessOptions) => runDev(process.env, options));
  program
    .command('worker')
    .description('run the worker (workflows and activities) against TEMPORAL_ADDRESS')
    .option(json, jsonHelp)
    .action((options: ProcessOptions) => runWorkerProcess(options));
  program
    .command('receivers')
    .description('run the webhook receivers against TEMPORAL_ADDRESS')
    .option(json, jsonHelp)
    .action((options: ProcessOptions) => runReceiversProcess(options));
  program
    .command('emulator')
    .description('run the Genesys Cloud emulator alone (EMULATOR_PORT, default 4010)')
    .option(json, jsonHelp)
    .action(async (options: ProcessOptions) => {
      let emulator;
      try {
        emulator = await runEmulator(process.env, { logsTo: options.json ? 'stderr' : 'stdout' });
      } catch (error) {
        // A bad EMULATOR_* setting is a configuration error (exit 2), named like every other.
        if (error instanceof ZodError) throw new ConfigError(error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
        throw error;
      }
      if (options.json) {
        printStartupReport({
          process: 'emulator',
          url: emulator.url,
          admin: `${emulator.url}/__emulator/state`,
          github: `${emulator.url}/github`,
          jira: `${emulator.url}/jira`,
        });
      }
      await new Promise(() => undefined); // runs until SIGINT / SIGTERM, which the emulator handles
    });
}
