/**
 * Lifecycle events: what an admin's install, uninstall, enable, disable or reconfigure does to the emulated
 * installation, and the signed delivery that tells the integration about it. The delivery plays the lifecycle
 * seed's traps: duplicates and delays (events out of order), a slow receiver gets the event again, and each retry
 * injects `retryCount` / `deliveryAttempt` and drifts `eventTimestamp` (Edge Case 3), so naive idempotency keys break.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { hmacSha256Hex, type RenderedDelivery } from './delivery';
import { type IntegrationWebhook, type LifecycleEvent, LifecycleEventSchema } from './integrations';
import { type Installation, installationKey } from './state';

/** `POST /__emulator/integrations/{integrationId}/orgs/{orgId}/events`. `installedBy` and `source` are
 * emulator extensions that fill `metadata`. */
export const LifecycleEmitSchema = z.object({
  event: LifecycleEventSchema,
  tenantId: z.string().min(1).optional(),
  configuration: z.record(z.string(), z.unknown()).optional(),
  duplicates: z.number().int().min(0).max(100).default(0),
  delayMs: z.number().int().min(0).default(0),
  withEventId: z.boolean().default(false),
  installedBy: z.string().min(1).optional(),
  source: z.string().min(1).optional(),
});
export type LifecycleEmitRequest = z.infer<typeof LifecycleEmitSchema>;

/** The body of a lifecycle delivery, as in the seed's example request, plus `metadata.sequence` and `eventId`. */
export interface LifecyclePayload {
  eventId?: string;
  event: LifecycleEvent;
  integrationId: string;
  orgId: string;
  tenantId: string;
  configuration: Record<string, unknown>;
  eventTimestamp: string;
  metadata: { installedBy: string; source: string; sequence: number };
}

export interface LifecycleEmission {
  sequence: number;
  deliveryIds: string[];
  /** Why nothing was sent, when nothing was. */
  skipped?: string;
}

/** Each retry moves `eventTimestamp` forward by this much per retry: the lifecycle seed's Edge Case 3, where
 * "the eventTimestamp differs slightly due to retry metadata injection" and naive idempotency keys break. */
const RETRY_TIMESTAMP_DRIFT_MS = 7;

/** Applies the event to the emulated installation, then sends it signed per the integration's webhook settings. */
export function emitLifecycleEvent(
  ctx: EmulatorContext,
  integrationId: string,
  orgId: string,
  request: LifecycleEmitRequest,
): LifecycleEmission {
  const { tenantId, configuration } = applyToInstallation(ctx, integrationId, orgId, request);
  const sequence = ctx.state.nextSequence(orgId, integrationId);
  const webhook = ctx.state.integrationWebhooks.get(integrationId);
  if (!webhook) return { sequence, deliveryIds: [], skipped: `integration ${integrationId} has no lifecycle webhook` };
  if (!webhook.events.includes(request.event)) {
    return { sequence, deliveryIds: [], skipped: `the webhook of ${integrationId} does not subscribe to ${request.event}` };
  }

  const payload: LifecyclePayload = {
    ...(request.withEventId ? { eventId: randomUUID() } : {}),
    event: request.event,
    integrationId,
    orgId,
    tenantId,
    configuration,
    eventTimestamp: new Date().toISOString(),
    metadata: { installedBy: request.installedBy ?? `admin@${orgId}`, source: request.source ?? 'marketplace', sequence },
  };
  // Copy k (0 = the original) goes out after (k + 1) × delayMs: duplicates arrive spaced out, and delayMs alone
  // lets a test deliver an earlier event after a later one (the seed's "events are not strictly ordered" trap).
  const deliveryIds = Array.from({ length: request.duplicates + 1 }, (_, copy) =>
    enqueueLifecycleDelivery(ctx, webhook, payload, request.delayMs * (copy + 1)),
  );
  return { sequence, deliveryIds };
}

function enqueueLifecycleDelivery(
  ctx: EmulatorContext,
  webhook: IntegrationWebhook,
  payload: LifecyclePayload,
  delayMs: number,
): string {
  return ctx.deliveries.enqueue({
    kind: 'lifecycle',
    url: webhook.url,
    retry: webhook.retryPolicy,
    timeoutMs: webhook.timeoutMs,
    delayMs,
    render: (attempt) => renderLifecycleDelivery(payload, webhook.secret, attempt),
  }).id;
}

/** Attempt 1 sends the payload as is; every retry injects `retryCount` and `deliveryAttempt` and drifts
 * `eventTimestamp`, while `metadata.sequence` (and `eventId`, when present) stay put. */
export function renderLifecycleDelivery(payload: LifecyclePayload, secret: string, attempt: number): RenderedDelivery {
  const retryCount = attempt - 1;
  const body =
    retryCount === 0
      ? payload
      : {
          ...payload,
          eventTimestamp: new Date(Date.parse(payload.eventTimestamp) + retryCount * RETRY_TIMESTAMP_DRIFT_MS).toISOString(),
          retryCount,
          deliveryAttempt: attempt,
        };
  const bytes = Buffer.from(JSON.stringify(body));
  return {
    body,
    bytes,
    headers: {
      'Content-Type': 'application/json',
      'X-Genesys-Signature': hmacSha256Hex(secret, bytes),
      // ISO 8601 to the second, like the seed's example request (2024-01-15T14:32:10Z); fresh on every attempt.
      'X-Genesys-Event-Timestamp': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
  };
}

interface InstallationFacts {
  tenantId: string;
  configuration: Record<string, unknown>;
}

/** What Genesys Cloud itself records when an admin installs, removes, toggles or reconfigures the integration. */
function applyToInstallation(
  ctx: EmulatorContext,
  integrationId: string,
  orgId: string,
  request: LifecycleEmitRequest,
): InstallationFacts {
  const key = installationKey(orgId, integrationId);
  const existing = ctx.state.installations.get(key);
  const facts: InstallationFacts = {
    tenantId: request.tenantId ?? existing?.tenantId ?? `tenant_${orgId}`,
    configuration: request.configuration ?? existing?.configuration ?? {},
  };
  switch (request.event) {
    case 'installed':
      ctx.state.installations.set(key, {
        orgId,
        integrationId,
        ...facts,
        status: 'installed',
        installedAt: new Date().toISOString(),
      });
      issueIntegrationToken(ctx, orgId, integrationId);
      break;
    case 'uninstalled':
      ctx.state.installations.delete(key);
      break;
    case 'enabled':
    case 'disabled':
    case 'configuration_updated':
      // Toggling or reconfiguring an org that never installed changes nothing here, but the event is still sent:
      // tests use that to play events arriving for installations the receiver has never seen.
      if (existing) ctx.state.installations.set(key, { ...existing, ...facts, status: statusAfter(request.event, existing) });
      break;
  }
  return facts;
}

function statusAfter(event: LifecycleEvent, existing: Installation): Installation['status'] {
  if (event === 'enabled') return 'installed';
  if (event === 'disabled') return 'disabled';
  return existing.status;
}

function issueIntegrationToken(ctx: EmulatorContext, orgId: string, integrationId: string): void {
  if (ctx.state.activeIntegrationTokens(orgId, integrationId).length > 0) return;
  ctx.state.integrationTokens.push({ orgId, integrationId, issuedAt: new Date().toISOString() });
}
