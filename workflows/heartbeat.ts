/**
 * The audit heartbeat, run by a Schedule (schedules/heartbeat.ts; today's form of a cron workflow). Seed Edge
 * Case 3: when no config-audit webhook has arrived for a while during business hours, deliveries are probably
 * failing, so poll `GET /api/v2/configuration?lastModifiedTime=…` for what changed since the last delivered one
 * and audit each change under the same workflow IDs the webhook uses: whatever was already audited is a no-op,
 * and a webhook that arrives later for a polled version is recognised as a duplicate.
 */
import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ChangeGateActivities } from '../activities/change-gate';
import { TollgateKind, TollgateState } from '../platform/search-attributes';
import type { HeartbeatResult } from './heartbeat-messages';
import { genesysTaskQueue } from './task-queues';

const gate = proxyActivities<ChangeGateActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

export async function heartbeatWorkflow(): Promise<HeartbeatResult> {
  const taskQueue = workflowInfo().taskQueue;
  upsertSearchAttributes([
    { key: TollgateKind, value: 'heartbeat' },
    { key: TollgateState, value: 'checking' },
  ]);
  const check = await gate.checkAuditHeartbeat({ taskQueue });
  const result: HeartbeatResult = { ...check, changesFound: 0, auditsStarted: 0, alreadyAudited: 0 };
  if (!check.inBusinessHours || !check.quiet || !check.polledSince) {
    upsertSearchAttributes([{ key: TollgateState, value: check.inBusinessHours ? 'webhooks_flowing' : 'outside_business_hours' }]);
    return result;
  }

  // The poll follows every page, and starts the audits from the same activity, so that a long list of changes
  // never travels through workflow history. It runs on the Genesys queue: its requests count against the budget.
  const { pollAndAuditChanges } = proxyActivities<ChangeGateActivities>({
    taskQueue: genesysTaskQueue(taskQueue),
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
  });
  const polled = await pollAndAuditChanges({ since: check.polledSince, taskQueue });
  upsertSearchAttributes([{ key: TollgateState, value: 'polled' }]);
  return { ...result, ...polled };
}
