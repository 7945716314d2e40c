/**
 * `POST /webhooks/genesys-config-audit` (issue 3): Genesys Cloud's `configuration.updated` events, the seed's
 * audit webhook (section 3).
 *
 * In this order, and nothing else:
 * 1. verifiedWebhook: `X-Genesys-Event-Timestamp` within ±5 minutes on both sides (the seed's "Ignoring Replay
 *    Attacks" trap: a stale or future-dated event is refused) and `X-Genesys-Signature` over the raw bytes,
 *    before any parsing;
 * 2. JSON.parse + zod;
 * 3. start `audit:<type>:<id>:<version>` under the ack deadline, with reuse policy REJECT_DUPLICATE: a re-sent or
 *    replayed event (inside the window), or a version the heartbeat's poll already audited, finds the audit that
 *    exists and changes nothing — 200 `{ status: 'duplicate_handled' }`. A new audit is 202 `{ status: 'started' }`.
 *    The audit records that it came by `webhook`: the heartbeat looks for the last such audit.
 */
import { Router } from 'express';
import { z } from 'zod';
import { startAudit } from '../client/change-gate';
import type { AuditInput } from '../workflows/audit-messages';
import { auditWorkflowId, isValidName } from '../workflows/workflow-ids';
import { acknowledge } from './ack';
import type { ReceiverDeps } from './deps';
import { parseVerifiedJson, verifiedWebhook } from './verified-webhook';

export const CONFIG_AUDIT_PATH = '/webhooks/genesys-config-audit';

const name = z.string().refine(isValidName, 'not a valid type or id');

/** The emulator's (and Genesys Cloud's) `configuration.updated` body, as docs/emulator.md describes it. */
export const ConfigurationUpdatedSchema = z.object({
  eventId: z.string().min(1).optional(),
  eventType: z.literal('configuration.updated'),
  timestamp: z.string().optional(),
  object: z.object({
    type: name,
    id: name,
    version: z.number().int().nonnegative(),
    lastModifiedTime: z.string().optional(),
  }),
  modifiedBy: z.object({ kind: z.string().min(1), id: z.string() }).optional(),
});
export type ConfigurationUpdated = z.infer<typeof ConfigurationUpdatedSchema>;

export function configAuditRoute(deps: ReceiverDeps): Router {
  const router = Router();
  const { config, logger, metrics } = deps;

  router.post(
    CONFIG_AUDIT_PATH,
    verifiedWebhook({
      name: 'config-audit',
      secrets: config.receivers.configAudit.secrets,
      profile: config.receivers.configAudit.profile,
      bodyLimitBytes: config.receivers.bodyLimitBytes,
      metrics,
      logger,
    }),
    async (_req, res) => {
      const event = parseVerifiedJson(res, ConfigurationUpdatedSchema, 'a configuration.updated event');
      const input: AuditInput = {
        type: event.object.type,
        id: event.object.id,
        version: event.object.version,
        lastModifiedTime: event.object.lastModifiedTime,
        modifiedBy: event.modifiedBy,
        source: 'webhook',
        eventId: event.eventId,
      };
      const workflowId = auditWorkflowId({ type: input.type, id: input.id }, input.version);
      // acknowledge() answers with `ok` once the work resolved: the work says whether it was new or a duplicate.
      const ok = { status: 202, body: { status: 'started', workflowId } };
      await acknowledge(
        res,
        deps,
        async () => {
          const outcome = await startAudit(deps.temporal, deps.taskQueue, input);
          if (outcome === 'duplicate') {
            ok.status = 200;
            ok.body = { status: 'duplicate_handled', workflowId };
          }
          logger.info({ workflowId, outcome, modifiedBy: input.modifiedBy, eventId: input.eventId }, 'config-audit event');
        },
        ok,
      );
    },
  );
  return router;
}
