/**
 * The audit ledger's retention schedule: `${taskQueue}:ledger-retention` runs ledgerRetentionWorkflow daily, only
 * when TOLLGATE_LEDGER_RETENTION is a duration (the default, `forever`, creates no schedule).
 */
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import { ledgerRetentionWorkflow } from '../workflows/ledger-retention';
import { ensureSchedule } from './ensure-schedule';

export const ledgerRetentionScheduleId = (taskQueue: string): string => `${taskQueue}:ledger-retention`;

export async function ensureLedgerRetentionSchedule(client: Client, config: Config, taskQueue: string): Promise<string | undefined> {
  if (config.ledger.retentionMs === undefined) {
    await client.schedule.getHandle(ledgerRetentionScheduleId(taskQueue)).delete().catch(() => undefined);
    return undefined;
  }
  return ensureSchedule(client, {
    scheduleId: ledgerRetentionScheduleId(taskQueue),
    spec: { intervals: [{ every: '1 day' }] },
    action: {
      type: 'startWorkflow',
      workflowType: ledgerRetentionWorkflow,
      workflowId: `ledger-retention:${taskQueue}`,
      taskQueue,
      args: [],
      staticSummary: `audit ledger retention: prune rows older than TOLLGATE_LEDGER_RETENTION, keeping a checkpoint`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
    memo: { purpose: 'audit ledger retention' },
  });
}
