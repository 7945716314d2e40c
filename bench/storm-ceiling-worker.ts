/**
 * The storm's ceiling worker (bench/lifecycle-storm.ts): the same workflows, the same worker options and the same
 * Temporal runtime as `tollgate worker` (worker.ts createWorkers), but every activity an install runs answers at once
 * without touching anything — no partner HTTP, no PostgreSQL schema, no inventory row, no audit ledger. What a storm
 * costs on top of this is Tollgate's own work; this is what Temporal alone costs on this machine.
 *
 * Run by the benchmark as its own process (so its CPU is its own), with the environment of a test stack; it prints
 * `worker running` when it polls, and drains on SIGTERM.
 */
import type { Activities } from '../activities';
import { schemaNameForTenant } from '../activities/provisioning/database-schema';
import type { TenantOwner } from '../activities/provisioning/ownership';
import { loadConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { installTemporalRuntime } from '../platform/temporal-runtime';
import { connectWorker, createWorkers, runWorkers } from '../worker';
import type { LedgerRecord } from '../workflows/ledger-records';

/** The activities an install runs (workflows/installation.ts), answering as a successful step would. Anything else
 * is not registered: a storm that needed it would fail loudly rather than be measured wrongly. */
export const noOpInstallActivities = {
  async loadInstallationRecord(): Promise<undefined> {
    return undefined;
  },
  async recordInstallation(): Promise<void> {},
  async createMiddlewareTenant(): Promise<'created'> {
    return 'created';
  },
  async createTenantSchema(owner: TenantOwner): Promise<{ schemaName: string; created: boolean }> {
    return { schemaName: schemaNameForTenant(owner.tenantId), created: true };
  },
  async configureCrmConnection(): Promise<void> {},
  async appendLedgerRecords(records: LedgerRecord[]): Promise<number[]> {
    return records.map((_, index) => index);
  },
};

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'tollgate-ceiling-worker' });
  installTemporalRuntime({ logger, metricsBindAddress: `0.0.0.0:${config.worker.metricsPort}` });
  const controller = new AbortController();
  for (const name of ['SIGINT', 'SIGTERM'] as const) process.once(name, () => controller.abort());
  const connection = await connectWorker(config);
  const workers = await createWorkers({ config, connection, activities: noOpInstallActivities as unknown as Activities });
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker running');
  await runWorkers(workers, controller.signal);
  await connection.close();
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
