/**
 * The lifecycle reconciliation schedule (lifecycle seed, Edge Case 2: "Schedule a reconciliation job that runs
 * hourly"): `${taskQueue}:reconciliation` starts reconciliationWorkflow every config.lifecycle.reconcileEveryMs
 * (TOLLGATE_RECONCILE_EVERY, 1 h by default). Created only when an integration is configured
 * (TOLLGATE_INTEGRATION_ID, or the sandbox's). Idempotent: an existing schedule is updated to the current settings.
 * Overlap policy SKIP: a slow run (thousands of orgs) is never stacked with the next.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptionsAction } from '@temporalio/client';
import type { Config } from '../platform/config';
import { reconciliationWorkflow } from '../workflows/reconciliation';

export const reconciliationScheduleId = (taskQueue: string): string => `${taskQueue}:reconciliation`;

export async function ensureReconciliationSchedule(client: Client, config: Config, taskQueue: string): Promise<string | undefined> {
  const integrationId = config.lifecycle.integrationId;
  if (!integrationId) return undefined;
  const scheduleId = reconciliationScheduleId(taskQueue);
  const spec = { intervals: [{ every: config.lifecycle.reconcileEveryMs }] };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: reconciliationWorkflow,
    workflowId: `reconciliation:${integrationId}`,
    taskQueue,
    args: [{ integrationId, reason: 'schedule' }],
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      memo: { purpose: 'lifecycle reconciliation' },
    });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous) => ({
      ...previous,
      spec,
      action,
      policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.SKIP },
    }));
  }
  return scheduleId;
}
