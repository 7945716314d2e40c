/**
 * Activities of the audit side of the change gate: alerts, and the heartbeat (seed Edge Case 3) — "have webhooks
 * gone quiet during business hours?" and "poll what changed since, and audit each change".
 */
import { lastWebhookAudit, startAudit } from '../client/change-gate';
import { toActivityFailure } from '../genesys/errors';
import type { AuditInput } from '../workflows/audit-messages';
import type { HeartbeatResult } from '../workflows/heartbeat-messages';
import { heartbeat } from './activity-context';
import { activityLogger } from './activity-logger';
import type { Alert } from './alerts';
import { withinBusinessHours } from './business-hours';
import type { ActivityDeps } from './deps';

/** The poll starts this long before the last delivered webhook: a change made just before it may have been
 * delivered late or not at all (the receiver's replay window is ±5 min). */
export const POLL_OVERLAP_MS = 5 * 60_000;

export type HeartbeatCheck = Pick<HeartbeatResult, 'checkedAt' | 'inBusinessHours' | 'lastWebhookAuditAt' | 'quiet' | 'polledSince' | 'seedContract'>;

export function createAuditActivities(deps: Pick<ActivityDeps, 'config' | 'logger' | 'temporal' | 'genesys' | 'alerts'>) {
  return {
    /** To the log and the Slack-compatible webhook (the emulator records it in sandbox mode). */
    async sendAlert(alert: Alert): Promise<void> {
      await deps.alerts.send(alert);
    },

    /**
     * Finds, through Temporal visibility, when the last webhook-delivered audit of this deployment (its task queue)
     * started. Quiet = none within `quietMs`. The poll then starts at that audit minus an overlap, or, when no
     * webhook audit is on record, `lookbackMs` ago.
     */
    async checkAuditHeartbeat(request: { taskQueue: string }): Promise<HeartbeatCheck> {
      const settings = deps.config.changeGate.heartbeat;
      const now = Date.now();
      const checkedAt = new Date(now).toISOString();
      // A real org serves no `/api/v2/configuration`: there is no seed webhook to miss and nothing to poll there.
      if (!deps.config.genesys.seedContract) return { checkedAt, inBusinessHours: false, quiet: false, seedContract: false };
      const inBusinessHours = withinBusinessHours(new Date(now), settings.businessHours, settings.timezone);
      if (!inBusinessHours) return { checkedAt, inBusinessHours, quiet: false };

      const { recent, last } = await lastWebhookAudit(deps.temporal, {
        taskQueue: request.taskQueue,
        recentSince: new Date(now - settings.quietMs),
        since: new Date(now - settings.lookbackMs),
      });
      if (recent) return { checkedAt, inBusinessHours, quiet: false };
      const since = last ? new Date(last.getTime() - POLL_OVERLAP_MS) : new Date(now - settings.lookbackMs);
      activityLogger(deps.logger).warn(
        { lastWebhookAuditAt: last?.toISOString(), quietMs: settings.quietMs, since: since.toISOString() },
        'no config-audit webhook for a while during business hours: polling Genesys Cloud for changes',
      );
      return { checkedAt, inBusinessHours, quiet: true, lastWebhookAuditAt: last?.toISOString(), polledSince: since.toISOString() };
    },

    /** Genesys task queue: lists every object changed since `since` (all pages) and starts an audit of each
     * object's version under the webhook's workflow ID; one already audited is a no-op. */
    async pollAndAuditChanges(request: { since: string; taskQueue: string }): Promise<Pick<HeartbeatResult, 'changesFound' | 'auditsStarted' | 'alreadyAudited'>> {
      let changes;
      try {
        changes = await deps.genesys.listChangesSince(new Date(request.since));
      } catch (error) {
        throw toActivityFailure(error);
      }
      let auditsStarted = 0;
      let alreadyAudited = 0;
      for (const change of changes) {
        const input: AuditInput = {
          type: change.type,
          id: change.id,
          version: change.version,
          lastModifiedTime: change.lastModifiedTime,
          modifiedBy: change.modifiedBy,
          source: 'poll',
        };
        const outcome = await startAudit(deps.temporal, request.taskQueue, input);
        if (outcome === 'started') auditsStarted += 1;
        else alreadyAudited += 1;
        heartbeat();
      }
      if (auditsStarted > 0) activityLogger(deps.logger).warn({ auditsStarted, alreadyAudited }, 'heartbeat poll found changes the webhooks had not delivered');
      return { changesFound: changes.length, auditsStarted, alreadyAudited };
    },
  };
}
