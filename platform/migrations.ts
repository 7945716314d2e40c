/**
 * Tollgate's PostgreSQL schema (`tollgate`), brought up to date by node-pg-migrate from the SQL files in
 * `migrations/` — never by ad-hoc DDL at start-up. Every process that writes to the database (`tollgate worker`,
 * `tollgate dev`, the test run's global set-up) calls `migrateDatabase` before it starts; node-pg-migrate holds an
 * advisory lock while it runs, so any number of workers starting together apply each migration exactly once.
 *
 * A new migration is a new file `migrations/<unix-ms>_<name>.sql` with `-- Up Migration` and `-- Down Migration`
 * sections; files run in name order and an applied file must never be edited (docs/operations.md).
 */
import { join } from 'node:path';
import type { Logger } from './logger';

export const MIGRATIONS_DIR = join(__dirname, '..', 'migrations');
/** Where node-pg-migrate records which migrations ran. */
export const MIGRATIONS_TABLE = 'pgmigrations';
export const TOLLGATE_SCHEMA = 'tollgate';

/** Applies every pending migration; returns the names of those it applied (none when up to date). */
export async function migrateDatabase(databaseUrl: string, logger?: Logger): Promise<string[]> {
  // node-pg-migrate is an ES module; a dynamic import loads it from this CommonJS code.
  const { runner } = await import('node-pg-migrate');
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: MIGRATIONS_TABLE,
    migrationsSchema: TOLLGATE_SCHEMA,
    createMigrationsSchema: true,
    schema: TOLLGATE_SCHEMA,
    createSchema: true,
    checkOrder: true,
    singleTransaction: true,
    // Several workers starting together: the others wait for the first, then find nothing left to apply.
    advisoryLockMode: 'wait',
    log: () => undefined,
    logger: { debug: () => undefined, info: () => undefined, warn: (message: string) => logger?.warn(message), error: (message: string) => logger?.error(message) },
  });
  const names = applied.map((migration) => migration.name);
  if (names.length > 0) logger?.info({ migrations: names }, 'database migrated');
  return names;
}
