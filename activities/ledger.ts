/**
 * The audit ledger's writer, as an activity: workflows decide what happened (workflows/ledger-records.ts) and hand
 * the records here; the rows go to PostgreSQL (ledger/audit-ledger.ts). Workflows call it as a local activity: a
 * short database write in the worker that already runs the workflow, with no extra round trip to the server on a
 * change's path. Idempotent: a retried append finds the rows its first attempt wrote (natural keys).
 */
import { Pool } from 'pg';
import { AuditLedger } from '../ledger/audit-ledger';
import type { LedgerRecord } from '../workflows/ledger-records';
import { activityLogger } from './activity-logger';
import type { ActivityDeps } from './deps';

/** Pooled connections per worker process for ledger appends (they are serialised by the chain lock anyway). */
const LEDGER_POOL_SIZE = 4;

export function createLedgerActivities(deps: Pick<ActivityDeps, 'databaseUrl' | 'logger' | 'config'>) {
  let ledger: AuditLedger | undefined;
  const open = (): AuditLedger => {
    if (!ledger) {
      const pool = new Pool({ connectionString: deps.databaseUrl, max: LEDGER_POOL_SIZE, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
      pool.on('error', (error) => deps.logger.info({ reason: error.message }, 'PostgreSQL closed an idle ledger connection'));
      ledger = new AuditLedger(pool);
    }
    return ledger;
  };

  return {
    /** Appends the records in order; returns their sequence numbers. */
    async appendLedgerRecords(records: LedgerRecord[]): Promise<number[]> {
      const rows = await open().append(records);
      return rows.map((row) => row.seq);
    },

    /** Prunes rows older than the ledger's retention (TOLLGATE_LEDGER_RETENTION); nothing when it is `forever`. */
    async pruneLedger(): Promise<{ pruned: number; throughSeq?: number }> {
      const retentionMs = deps.config.ledger.retentionMs;
      if (retentionMs === undefined) return { pruned: 0 };
      const result = await open().prune(new Date(Date.now() - retentionMs));
      if (result.pruned > 0) activityLogger(deps.logger).info(result, 'audit ledger pruned by its retention');
      return result;
    },
  };
}

export type LedgerActivities = ReturnType<typeof createLedgerActivities>;
