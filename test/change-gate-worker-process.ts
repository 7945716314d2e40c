/**
 * A Tollgate worker in its own process, for the test that kills a worker mid-deploy (SIGKILL: no graceful
 * shutdown, no chance to report anything). Configured from the environment like `tollgate worker`; prints
 * `ready` on stdout once both of its workers poll.
 */
import { createActivities } from '../activities';
import { connectClient } from '../client/connection';
import { loadConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { buildActivityDeps, connectWorker, createWorkers, runWorkers } from '../worker';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger({ level: config.logLevel, name: 'tollgate-test-worker' });
  const client = await connectClient(config.temporal);
  const connection = await connectWorker(config);
  const activities = createActivities(buildActivityDeps({ config, logger, temporal: client, databaseUrl: process.env.DATABASE_URL ?? '' }));
  const workers = await createWorkers({ config, connection, activities, identity: `killable-${process.pid}` });
  const running = runWorkers(workers);
  process.stdout.write('ready\n');
  await running;
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
