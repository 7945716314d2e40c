/**
 * The audit heartbeat schedule (issue 3; seed Edge Case 3): runs `heartbeatWorkflow` every
 * TOLLGATE_HEARTBEAT_EVERY. Created, or updated to the current settings, idempotently at start-up by every
 * worker; the schedule ID derives from the task queue, so deployments (and test stacks) sharing a namespace each
 * have their own. Overlap policy SKIP: a slow poll is never doubled by the next tick.
 */
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import { TollgateKind } from '../platform/search-attributes';
import { heartbeatWorkflow } from '../workflows/heartbeat';
import { heartbeatWorkflowId } from '../workflows/workflow-ids';
import { ensureSchedule } from './ensure-schedule';

export function heartbeatScheduleId(taskQueue: string): string {
  return `${taskQueue}:heartbeat`;
}

export async function ensureHeartbeatSchedule(client: Client, config: Config, taskQueue: string): Promise<string | undefined> {
  return ensureSchedule(client, {
    scheduleId: heartbeatScheduleId(taskQueue),
    spec: { intervals: [{ every: config.changeGate.heartbeat.everyMs }] },
    action: {
      type: 'startWorkflow',
      workflowType: heartbeatWorkflow,
      workflowId: heartbeatWorkflowId(taskQueue),
      taskQueue,
      args: [],
      typedSearchAttributes: [{ key: TollgateKind, value: 'heartbeat' }],
      staticSummary: `audit heartbeat: poll Genesys Cloud for changes when config-audit webhooks go quiet`,
      workflowExecutionTimeout: '30 minutes',
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    memo: { description: 'Change gate audit heartbeat: polls Genesys Cloud when config-audit webhooks go quiet (seed Edge Case 3)' },
  });
}
