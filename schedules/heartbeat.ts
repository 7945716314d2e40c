/**
 * The audit heartbeat schedule (issue 3; seed Edge Case 3): runs `heartbeatWorkflow` every
 * TOLLGATE_HEARTBEAT_EVERY. Created, or updated to the current settings, idempotently at start-up by every
 * worker; the schedule ID derives from the task queue, so deployments (and test stacks) sharing a namespace each
 * have their own. Overlap policy SKIP: a slow poll is never doubled by the next tick.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../platform/config';
import { TollgateKind } from '../platform/search-attributes';
import { heartbeatWorkflow } from '../workflows/heartbeat';

export function heartbeatScheduleId(taskQueue: string): string {
  return `${taskQueue}:heartbeat`;
}

export async function ensureHeartbeatSchedule(client: Client, config: Config, taskQueue: string): Promise<string | undefined> {
  const scheduleId = heartbeatScheduleId(taskQueue);
  const options = {
    scheduleId,
    spec: { intervals: [{ every: config.changeGate.heartbeat.everyMs }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: heartbeatWorkflow,
      workflowId: `heartbeat:${taskQueue}`,
      taskQueue,
      args: [] as [],
      typedSearchAttributes: [{ key: TollgateKind, value: 'heartbeat' }],
      workflowExecutionTimeout: '30 minutes',
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    memo: { description: 'Change gate audit heartbeat: polls Genesys Cloud when config-audit webhooks go quiet (seed Edge Case 3)' },
  } satisfies ScheduleOptions;
  try {
    await client.schedule.create(options);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec: options.spec, action: options.action, policies: options.policies }));
  }
  return scheduleId;
}
