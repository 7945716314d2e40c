/** Stops the Temporal dev server and PostgreSQL that test/global-setup.ts started for the run. */
import type { DevServer } from '../platform/dev-server';

export default async function globalTeardown(): Promise<void> {
  const services = (globalThis as Record<string, unknown>).__TOLLGATE_TEST_SERVICES__ as
    | { server: DevServer; database: { stop(): Promise<void> } }
    | undefined;
  await services?.database.stop();
  await services?.server.stop();
}
