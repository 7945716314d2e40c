/**
 * The project's Temporal Schedules (today's form of cron workflows): the audit heartbeat, the hourly lifecycle
 * reconciliation and the audit ledger's retention. Created or updated idempotently at start-up by `tollgate dev`
 * and `tollgate worker`.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import { ensureHeartbeatSchedule } from './heartbeat';
import { ensureLedgerRetentionSchedule } from './ledger-retention';
import { ensureReconciliationSchedule } from './reconciliation';

export async function ensureSchedules(client: Client, config: Config, taskQueue = config.temporal.taskQueue): Promise<string[]> {
  return [
    await ensureHeartbeatSchedule(client, config, taskQueue),
    await ensureReconciliationSchedule(client, config, taskQueue),
    await ensureLedgerRetentionSchedule(client, config, taskQueue),
  ].filter(
    (id): id is string => typeof id === 'string',
  );
}
