/**
 * Small connection pools on Tollgate's own PostgreSQL schema (`tollgate`), one per database URL and process, for the
 * state that belongs to all workers together: the shared Genesys request budget (genesys/request-budget.ts), the
 * Audit API cursor and the notification channel's leader lock. Idle connections do not keep a process alive.
 */
import { Pool } from 'pg';

const pools = new Map<string, Pool>();

export function tollgatePool(databaseUrl: string): Pool {
  let pool = pools.get(databaseUrl);
  if (!pool) {
    pool = new Pool({ connectionString: databaseUrl, max: 4, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
    // A dropped idle connection is replaced on the next query; it must not crash the process.
    pool.on('error', () => undefined);
    pools.set(databaseUrl, pool);
  }
  return pool;
}

/** Closes every pool of this process (shutdown). */
export async function closeTollgatePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.end().catch(() => undefined)));
}
