/**
 * The audit heartbeat, run by a Schedule (schedules/heartbeat.ts; today's form of a cron workflow). Seed Edge
 * Case 3: when no config-audit webhook has arrived for a while during business hours, deliveries are probably
 * failing, so poll `GET /api/v2/configuration?lastModifiedTime=…` for what changed since the last delivered one
 * and audit each change under the same workflow IDs the webhook uses: whatever was already audited is a no-op,
 * and a webhook that arrives later for a polled version is recognised as a duplicate.
 *
 * Then, for real Platform API objects, which have no webhook at all: the Audit API since its stored cursor
 * (activities/audit-trail.ts), every run, under the same audit workflow IDs as the notification channel.
 */
import { proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
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
  // Polls follow every page and start the audits from the same activity, so that a long list of changes never
  // travels through workflow history. They run on the Genesys queue: their requests count against the budget.
  const polls = proxyActivities<ChangeGateActivities>({
    taskQueue: genesysTaskQueue(taskQueue),
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
  });

  const check = await gate.checkAuditHeartbeat({ taskQueue });
  let result: HeartbeatResult = { ...check, changesFound: 0, auditsStarted: 0, alreadyAudited: 0 };
  let state = check.seedContract === false ? 'audit_api_only' : check.inBusinessHours ? 'webhooks_flowing' : 'outside_business_hours';
  if (check.inBusinessHours && check.quiet && check.polledSince) {
    result = { ...result, ...(await polls.pollAndAuditChanges({ since: check.polledSince, taskQueue })) };
    state = 'polled';
  }

  // Real Platform API objects: the Audit API since the stored cursor, every run (drift does not wait for webhooks to
  // go quiet; there are none).
  const trail = await polls.pollAuditTrail({ taskQueue });
  if (trail.enabled) {
    const { enabled: _enabled, ...summary } = trail;
    result.auditTrail = summary;
  }
  upsertSearchAttributes([{ key: TollgateState, value: state }]);
  setCurrentDetails(
    `**${state}**: ${check.inBusinessHours ? 'in' : 'outside'} business hours; last webhook audit ${check.lastWebhookAuditAt ?? 'none seen'}` +
      (state === 'polled' ? `; polled since ${check.polledSince}: ${result.changesFound} changes, ${result.auditsStarted} audits started` : '') +
      (result.auditTrail ? `; Audit API: ${result.auditTrail.changesFound} changes, ${result.auditTrail.auditsStarted} audits started` : ''),
  );
  return result;
}
