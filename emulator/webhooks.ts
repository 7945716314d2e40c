/**
 * Config-audit webhooks: the subscription API (`/api/v2/webhooks/webhooks`) and the `configuration.updated` event
 * that every object change sends to each enabled subscription filtering for it, HMAC-signed over the body bytes.
 * A retry sends the same bytes with a fresh `X-Genesys-Event-Timestamp`, so it passes the receiver's replay window.
 */
import { randomUUID } from 'node:crypto';
import express, { Router } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { type DeliveryRecord, hmacSha256Hex, type RenderedDelivery } from './delivery';
import { notFound, parseWith } from './errors';
import { MASKED_SECRET } from './secrets';
import type { ConfigObject } from './state';

export const CONFIGURATION_UPDATED = 'configuration.updated';

/** The seed's subscription body (change gate, Step 3.1) plus `secret`, an emulator extension for signing. */
export const AuditSubscriptionRequestSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    eventFilters: z.array(z.string().min(1)).min(1),
    httpTarget: z.looseObject({ uri: z.url({ protocol: /^https?$/ }) }),
    authScheme: z.string().optional(),
    authUsername: z.string().optional(),
    authPassword: z.string().optional(),
    event: z.looseObject({ type: z.string().optional() }).optional(),
    secret: z.string().min(1).optional(),
  })
  .refine((body) => !usesBasicAuth(body) || (body.authUsername !== undefined && body.authPassword !== undefined), {
    message: 'authScheme "basic" needs authUsername and authPassword',
  });

export type AuditSubscription = z.infer<typeof AuditSubscriptionRequestSchema> & { id: string; createdAt: string };

/** The body of a `configuration.updated` delivery. */
export interface ConfigurationUpdatedEvent {
  eventId: string;
  eventType: typeof CONFIGURATION_UPDATED;
  timestamp: string;
  object: { type: string; id: string; version: number; lastModifiedTime: string };
  modifiedBy: { kind: 'client' | 'user'; id: string };
}

export function webhookSubscriptionRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  router.post('/api/v2/webhooks/webhooks', express.json(), (req, res) => {
    const body = parseWith(AuditSubscriptionRequestSchema, req.body);
    const subscription: AuditSubscription = { ...body, id: randomUUID(), createdAt: new Date().toISOString() };
    ctx.state.subscriptions.set(subscription.id, subscription);
    res.status(200).json(maskSubscription(subscription));
  });
  router.get('/api/v2/webhooks/webhooks', (_req, res) => {
    const entities = [...ctx.state.subscriptions.values()].map(maskSubscription);
    res.json({ entities, total: entities.length });
  });
  router.get('/api/v2/webhooks/webhooks/:webhookId', (req, res) => {
    res.json(maskSubscription(findSubscription(ctx, req.params.webhookId)));
  });
  router.delete('/api/v2/webhooks/webhooks/:webhookId', (req, res) => {
    findSubscription(ctx, req.params.webhookId);
    ctx.state.subscriptions.delete(req.params.webhookId);
    res.status(204).end();
  });
  return router;
}

/** Every change to an object (API write or UI edit) goes to each enabled subscription that filters for it. */
export function emitConfigurationUpdated(ctx: EmulatorContext, object: ConfigObject): DeliveryRecord[] {
  const event: ConfigurationUpdatedEvent = {
    eventId: randomUUID(),
    eventType: CONFIGURATION_UPDATED,
    timestamp: object.lastModifiedTime,
    object: { type: object.type, id: object.id, version: object.version, lastModifiedTime: object.lastModifiedTime },
    modifiedBy: object.modifiedBy,
  };
  const bytes = Buffer.from(JSON.stringify(event));
  return [...ctx.state.subscriptions.values()]
    .filter((subscription) => subscription.enabled && subscription.eventFilters.includes(CONFIGURATION_UPDATED))
    .map((subscription) =>
      ctx.deliveries.enqueue({
        kind: 'config-audit',
        url: subscription.httpTarget.uri,
        retry: ctx.settings.auditRetry,
        timeoutMs: ctx.settings.auditTimeoutMs,
        render: () => renderAuditDelivery(event, bytes, subscription, subscription.secret ?? ctx.settings.auditWebhookSecret),
      }),
    );
}

/** The body bytes never change between attempts; the timestamp header is fresh each time, so a retry that comes
 * late still passes the receiver's 5-minute replay window (change-gate trap "Ignoring Replay Attacks"). */
function renderAuditDelivery(
  event: ConfigurationUpdatedEvent,
  bytes: Buffer,
  subscription: AuditSubscription,
  secret: string | undefined,
): RenderedDelivery {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    // Unix seconds: the seed's verifier does float(timestamp_header).
    'X-Genesys-Event-Timestamp': String(Math.floor(Date.now() / 1000)),
  };
  // Without any secret the delivery goes out unsigned, and a correct receiver must refuse it.
  if (secret !== undefined) headers['X-Genesys-Signature'] = hmacSha256Hex(secret, bytes);
  if (usesBasicAuth(subscription)) {
    const credentials = `${subscription.authUsername ?? ''}:${subscription.authPassword ?? ''}`;
    headers.Authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return { body: event, bytes, headers };
}

function usesBasicAuth(subscription: { authScheme?: string }): boolean {
  return subscription.authScheme?.toLowerCase() === 'basic';
}

function findSubscription(ctx: EmulatorContext, id: string): AuditSubscription {
  const subscription = ctx.state.subscriptions.get(id);
  if (!subscription) throw notFound(`No webhook with id ${id}`);
  return subscription;
}

export function maskSubscription(subscription: AuditSubscription): Record<string, unknown> {
  return {
    ...subscription,
    ...(subscription.authPassword !== undefined ? { authPassword: MASKED_SECRET } : {}),
    ...(subscription.secret !== undefined ? { secret: MASKED_SECRET } : {}),
  };
}
