/**
 * One Temporal dev server and one PostgreSQL for the whole test run, started here and stopped in global-teardown.
 * Test files reach them through the environment (TOLLGATE_TEST_TEMPORAL_ADDRESS, TOLLGATE_TEST_DATABASE_URL); each
 * test file starts its own emulator, worker and receivers (test/harness/stack.ts) on ephemeral ports.
 * A configured DATABASE_URL is used instead of the embedded PostgreSQL.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startDevServer, type DevServer } from '../platform/dev-server';
import { migrateDatabase } from '../platform/migrations';
import { startDatabase } from '../platform/postgres';
import { ensureTemporalCli, ensureTestServer } from '../platform/temporal-binary';

export interface TestServicesOptions {
  /** The dev server's dynamic configuration (default: platform/dev-server.ts LATENCY_DYNAMIC_CONFIG, as `npm start`). */
  devServerDynamicConfig?: Record<string, unknown>;
}

export default async function globalSetup(): Promise<void> {
  await startTestServices();
}

/** What jest's global setup does; `npm run bench` calls it too (bench/run.ts may pass the dev server's settings). */
export async function startTestServices(options: TestServicesOptions = {}): Promise<{ server: DevServer }> {
  const progress = (message: string) => process.stderr.write(`[test setup] ${message}\n`);
  const binary = await ensureTemporalCli({ env: process.env, onProgress: progress });
  // Child processes the tests spawn (`tollgate dev`, the CLI) use the same binary rather than installing their own.
  process.env.TOLLGATE_TEMPORAL_BIN = binary;
  // Installed now so that time-skipping tests running in parallel never race to install it.
  process.env.TOLLGATE_TEMPORAL_TEST_SERVER_BIN = await ensureTestServer({ env: process.env, onProgress: progress });
  const server = await startDevServer({ binary, port: await freePort(), headless: true, dynamicConfig: options.devServerDynamicConfig });
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-test-pg-'));
  // Jest runs no teardown when setup fails: stop what already started, or it outlives the run.
  const database = await startDatabase({ url: process.env.DATABASE_URL, dataDir: join(dataDir, 'data'), durable: false }).catch(async (error) => {
    await server.stop();
    throw error;
  });
  await migrateDatabase(database.url).catch(async (error) => {
    await database.stop();
    await server.stop();
    throw error;
  });
  process.env.TOLLGATE_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TOLLGATE_TEST_DATABASE_URL = database.url;
  (globalThis as Record<string, unknown>).__TOLLGATE_TEST_SERVICES__ = { server, database };
  return { server };
}
