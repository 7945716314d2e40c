/**
 * The lifecycle reconciliation schedule (lifecycle seed, Edge Case 2: "Schedule a reconciliation job that runs
 * hourly"): `${taskQueue}:reconciliation` starts reconciliationWorkflow every config.lifecycle.reconcileEveryMs
 * (TOLLGATE_RECONCILE_EVERY, 1 h by default). Each run covers every integration with installations on the task
 * queue (from the inventory) and the configured TOLLGATE_INTEGRATION_ID, so it is always created. Idempotent: an
 * existing schedule is updated to the current settings. Overlap policy SKIP: a slow run (thousands of orgs) is
 * never stacked with the next.
 */
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import { reconciliationWorkflow } from '../workflows/reconciliation';
import { reconciliationSummary } from '../workflows/ui-metadata';
import { reconciliationWorkflowId } from '../workflows/workflow-ids';
import { ensureSchedule } from './ensure-schedule';

export const reconciliationScheduleId = (taskQueue: string): string => `${taskQueue}:reconciliation`;

export async function ensureReconciliationSchedule(client: Client, config: Config, taskQueue: string): Promise<string> {
  return ensureSchedule(client, {
    scheduleId: reconciliationScheduleId(taskQueue),
    spec: { intervals: [{ every: config.lifecycle.reconcileEveryMs }] },
    action: {
      type: 'startWorkflow',
      workflowType: reconciliationWorkflow,
      workflowId: reconciliationWorkflowId(taskQueue),
      taskQueue,
      args: [{ reason: 'schedule' }],
      staticSummary: reconciliationSummary({ reason: 'schedule' }),
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    memo: { purpose: 'lifecycle reconciliation' },
  });
}
