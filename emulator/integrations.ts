/**
 * The Genesys-shaped integrations API: an integration's lifecycle webhook settings (the seed's definition; the
 * secret is write-only), the orgs where it is installed (what reconciliation compares against), and revoking an
 * org's integration tokens (the first step of the seed's teardown). Emitting lifecycle events is lifecycle.ts's job.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { notFound, parseWith } from './errors';
import { MASKED_SECRET } from './secrets';
import { RetryPolicySchema } from './settings';

export const LIFECYCLE_EVENTS = ['installed', 'uninstalled', 'enabled', 'disabled', 'configuration_updated'] as const;
export const LifecycleEventSchema = z.enum(LIFECYCLE_EVENTS);
export type LifecycleEvent = z.infer<typeof LifecycleEventSchema>;

/** The seed's lifecycle webhook definition (lifecycle seed, section 1). Retry policy and timeout default to the
 * seed's recommendation: five retries with exponential backoff, three seconds. */
export const IntegrationWebhookRequestSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  events: z.array(LifecycleEventSchema).min(1),
  retryPolicy: RetryPolicySchema.default({ maxRetries: 5, initialDelayMs: 1000, backoffMultiplier: 2 }),
  timeoutMs: z.number().int().positive().default(3000),
  secret: z.string().min(1),
});

export type IntegrationWebhook = z.infer<typeof IntegrationWebhookRequestSchema> & {
  integrationId: string;
  updatedAt: string;
};

const InstallationsQuerySchema = z.object({ orgId: z.string().min(1).optional() });

export function integrationRoutes(ctx: EmulatorContext): Router {
  const router = Router();

  router.put('/api/v2/integrations/:integrationId/webhooks', express.json(), (req, res) => {
    const body = parseWith(IntegrationWebhookRequestSchema, req.body);
    const webhook: IntegrationWebhook = { ...body, integrationId: req.params.integrationId, updatedAt: new Date().toISOString() };
    ctx.state.integrationWebhooks.set(webhook.integrationId, webhook);
    res.json(maskIntegrationWebhook(webhook));
  });

  router.get('/api/v2/integrations/:integrationId/webhooks', (req, res) => {
    const webhook = ctx.state.integrationWebhooks.get(req.params.integrationId);
    if (!webhook) throw notFound(`Integration ${req.params.integrationId} has no lifecycle webhook`);
    res.json(maskIntegrationWebhook(webhook));
  });

  // What reconciliation compares against: the orgs where Genesys Cloud says the integration is installed.
  router.get('/api/v2/integrations/:integrationId/installations', (req, res) => {
    const { orgId } = parseWith(InstallationsQuerySchema, req.query);
    const entities = [...ctx.state.installations.values()].filter(
      (installation) =>
        installation.integrationId === req.params.integrationId && (orgId === undefined || installation.orgId === orgId),
    );
    res.json({ entities, total: entities.length });
  });

  // The first step of the seed's teardown: revoke the org's tokens so it can make no further calls.
  router.delete('/api/v2/integrations/:integrationId/orgs/:orgId/tokens', (req, res) => {
    const active = ctx.state.activeIntegrationTokens(req.params.orgId, req.params.integrationId);
    if (active.length === 0) throw notFound(`Org ${req.params.orgId} holds no tokens of ${req.params.integrationId}`);
    const revokedAt = new Date().toISOString();
    for (const token of active) token.revokedAt = revokedAt;
    res.status(204).end();
  });

  return router;
}

export function maskIntegrationWebhook(webhook: IntegrationWebhook): Record<string, unknown> {
  return { ...webhook, secret: MASKED_SECRET };
}
