/**
 * `POST /v1/genesys/lifecycle` (issue 4): Genesys Cloud's signed lifecycle webhooks.
 *
 * In this order, and nothing else (the seed's traps):
 * 1. verifiedWebhook: timestamp window (±90 s) and HMAC over the raw bytes, before any parsing or allocation —
 *    a spoofed `uninstalled` is refused with 401 before anything is touched;
 * 2. JSON.parse + zod, including the installation ID grammar for org, integration and tenant IDs (400 with the
 *    reason, before any workflow is touched: no NUL or control characters, no `:` or `/`, at most 128 characters);
 * 3. the event's identity (eventId, else a hash of its stable core without retry metadata: Edge Case 3);
 * 4. signal-with-start of `installation:<orgId>:<integrationId>`, under the ack deadline. 2xx only once Temporal
 *    accepted it; 503 + Retry-After when Temporal is unreachable; never any provisioning on the request thread
 *    (the "non-2xx / blocking beyond the timeout" trap). The app's flood guard answers 429 + Retry-After when the
 *    receiver is saturated (Edge Case 1).
 *
 * The body says `queued` (202), or `duplicate_handled` (200) when this process already had the same identity
 * accepted by Temporal recently. That in-process memory only saves Temporal calls during retry storms; the
 * installation workflow is the authority on duplicates (its seen set survives restarts and spans receivers).
 */
import { Router } from 'express';
import { signalInstallation } from '../client/installations';
import { acknowledge } from './ack';
import type { ReceiverDeps } from './deps';
import { LifecyclePayloadSchema, toInstallationEvent } from './lifecycle-event';
import { parseVerifiedJson, verifiedWebhook } from './verified-webhook';

export const LIFECYCLE_PATH = '/v1/genesys/lifecycle';

/** Identities accepted by Temporal in this process: bounded, and forgotten after the seed's 24 h. */
const RECENT_LIMIT = 10_000;
const RECENT_TTL_MS = 24 * 3_600_000;

export class RecentIdentities {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly limit = RECENT_LIMIT,
    private readonly ttlMs = RECENT_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  has(identity: string): boolean {
    const at = this.entries.get(identity);
    if (at === undefined) return false;
    if (this.now() - at > this.ttlMs) {
      this.entries.delete(identity);
      return false;
    }
    return true;
  }

  add(identity: string): void {
    this.entries.delete(identity);
    this.entries.set(identity, this.now());
    while (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}

export function lifecycleRoute(deps: ReceiverDeps): Router {
  const router = Router();
  const { config, logger, metrics } = deps;
  const recent = new RecentIdentities();

  router.post(
    LIFECYCLE_PATH,
    verifiedWebhook({
      name: 'lifecycle',
      secrets: config.receivers.lifecycle.secrets,
      profile: config.receivers.lifecycle.profile,
      bodyLimitBytes: config.receivers.bodyLimitBytes,
      metrics,
      logger,
    }),
    async (req, res) => {
      const receivedAt = new Date();
      const payload = parseVerifiedJson(res, LifecyclePayloadSchema, 'a lifecycle event');
      const event = toInstallationEvent(payload, receivedAt);
      const context = { identity: event.identity, event: event.event, orgId: event.orgId, integrationId: event.integrationId };

      if (recent.has(event.identity)) {
        logger.info({ ...context, retryCount: payload.retryCount }, 'duplicate lifecycle delivery (already queued)');
        metrics.acked.inc({ route: 'lifecycle', status: '200' });
        res.status(200).json({ status: 'duplicate_handled', identity: event.identity });
        return;
      }

      await acknowledge(
        res,
        deps,
        async () => {
          await signalInstallation(deps.temporal, deps.taskQueue, event);
          recent.add(event.identity);
          logger.info(context, 'lifecycle event queued');
        },
        { status: 202, body: { status: 'queued', identity: event.identity } },
      );
    },
  );
  return router;
}
