/**
 * The Tollgate worker: runs every workflow and activity.
 *
 * Two Temporal workers share one process and one connection:
 *   - `<taskQueue>`: all workflows, and activities that do not call Genesys Cloud;
 *   - `<taskQueue>-genesys`: activities that call Genesys Cloud. Their requests (and every other Genesys request of
 *     the process) take permits from one budget kept in PostgreSQL (genesys/request-budget.ts), so the ~300
 *     requests/minute of one OAuth client hold across every worker process, not per process.
 */
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Activities } from './activities';
import { createAlertSender } from './activities/alerts';
import type { ActivityDeps } from './activities/deps';
import { connectionOptions, temporalAddress } from './client/connection';
import { AllowedSignersFile } from './approvals/allowed-signers';
import { GenesysClient } from './genesys/client';
import { RequestBudget } from './genesys/request-budget';
import { tollgatePool } from './platform/tollgate-database';
import { GitHubClient } from './github/client';
import type { Config } from './platform/config';
import type { Logger } from './platform/logger';
import { workflowBundleLogger } from './platform/temporal-runtime';
import { genesysTaskQueue } from './workflows/task-queues';

export const WORKFLOWS_PATH = require.resolve('./workflows');

export interface WorkerSetup {
  config: Config;
  connection: NativeConnection;
  activities: Activities;
  taskQueue?: string;
  /** Pre-bundled workflow code (tests bundle once per file); otherwise bundled from WORKFLOWS_PATH. */
  workflowBundle?: { code: string };
  /** Where the bundle's build output goes (at debug, one line per message); without it the SDK's own logger. */
  logger?: Logger;
  identity?: string;
}

/** Builds the activities' dependencies from configuration: the real clients, pointed where the config says. */
export function buildActivityDeps(options: {
  config: Config;
  logger: Logger;
  temporal: Client;
  databaseUrl: string;
}): ActivityDeps {
  const { config, logger } = options;
  return {
    config,
    logger,
    temporal: options.temporal,
    genesys: new GenesysClient(config.genesys, { logger: logger.child({ component: 'genesys' }), budget: sharedRequestBudget(config, options.databaseUrl) }),
    alerts: createAlertSender({ webhookUrl: config.alerts.webhookUrl, logger: logger.child({ component: 'alerts' }) }),
    databaseUrl: options.databaseUrl,
    // Public keys only: the worker never reads a private key (docs/security.md).
    allowedSigners: config.changeGate.allowedSignersPath
      ? new AllowedSignersFile(config.changeGate.allowedSignersPath, (problems) =>
          logger.warn({ path: config.changeGate.allowedSignersPath, problems }, 'allowed-signers lines skipped'),
        )
      : undefined,
    github: config.changeGate.github ? new GitHubClient(config.changeGate.github, logger.child({ component: 'github' })) : undefined,
  };
}

/** The Genesys request budget every worker process shares, kept in PostgreSQL (genesys/request-budget.ts). */
export function sharedRequestBudget(config: Config, databaseUrl: string): RequestBudget {
  return new RequestBudget(tollgatePool(databaseUrl), {
    scope: `${config.genesys.apiBase}|${config.genesys.clientId}`,
    perMinute: config.genesys.requestsPerMinute,
    resources: config.genesys.resourceBudgets,
    marginMs: config.genesys.budgetMarginMs,
  });
}

export async function createWorkers(setup: WorkerSetup): Promise<Worker[]> {
  const taskQueue = setup.taskQueue ?? setup.config.temporal.taskQueue;
  const common: Partial<WorkerOptions> = {
    connection: setup.connection,
    namespace: setup.config.temporal.namespace,
    activities: setup.activities,
    ...(setup.identity ? { identity: setup.identity } : {}),
    // Long-lived entity workflows (installations, targets) are many; keep their caches bounded.
    maxCachedWorkflows: setup.config.worker.maxCachedWorkflows,
  };
  const workflows: Partial<WorkerOptions> = setup.workflowBundle
    ? { workflowBundle: setup.workflowBundle }
    : setup.logger
      ? { workflowBundle: await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: workflowBundleLogger(setup.logger) }) }
      : { workflowsPath: WORKFLOWS_PATH };
  return Promise.all([
    Worker.create({
      ...common,
      ...workflows,
      taskQueue,
      maxConcurrentActivityTaskExecutions: setup.config.worker.maxConcurrentActivities,
      maxConcurrentWorkflowTaskExecutions: setup.config.worker.maxConcurrentWorkflowTasks,
    } as WorkerOptions),
    Worker.create({
      ...common,
      taskQueue: genesysTaskQueue(taskQueue),
      // Genesys-calling activities have their own slots; their requests are paced by the shared budget.
      maxConcurrentActivityTaskExecutions: 50,
    } as WorkerOptions),
  ]);
}

/** Runs workers until `signal` aborts, then drains them (in-flight activities finish or are retried elsewhere). */
export async function runWorkers(workers: Worker[], signal?: AbortSignal): Promise<void> {
  if (signal) {
    const shutdown = () => workers.forEach((worker) => worker.getState() === 'RUNNING' && worker.shutdown());
    if (signal.aborted) shutdown();
    else signal.addEventListener('abort', shutdown, { once: true });
  }
  await Promise.all(workers.map((worker) => worker.run()));
}

/** Opens the worker's own connection to Temporal (TLS / API key per config). */
export async function connectWorker(config: Config, address = temporalAddress(config.temporal)): Promise<NativeConnection> {
  const { tls } = connectionOptions(config.temporal, address);
  return NativeConnection.connect({ address, tls: tls ?? undefined, apiKey: config.temporal.apiKey });
}
