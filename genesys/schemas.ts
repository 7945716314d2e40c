/**
 * The shapes Genesys Cloud answers with, and the bodies Tollgate sends it. Every response is parsed with these
 * schemas before any caller sees it: a response of the wrong shape is a GenesysProtocolError, not a crash three
 * activities later.
 */
import { z } from 'zod';

/** `POST /oauth/token` (client_credentials). */
export const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  /** Seconds. Edge Case 2 (token expiry during deployment) is handled against this value, never a guess. */
  expires_in: z.number().positive(),
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

export const ModifiedBySchema = z.object({
  kind: z.enum(['client', 'user']),
  id: z.string(),
});
export type ModifiedBy = z.infer<typeof ModifiedBySchema>;

/** A configuration object: metadata keys plus any number of fields (every other top-level key). */
export const ConfigObjectSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string().min(1),
  version: z.number().int().nonnegative(),
  lastModifiedTime: z.string().min(1),
  modifiedBy: ModifiedBySchema.optional(),
  selfUri: z.string().optional(),
});
export type ConfigObject = z.infer<typeof ConfigObjectSchema>;

/** The keys of a configuration object that describe it rather than configure it. */
export const METADATA_KEYS = ['id', 'type', 'version', 'lastModifiedTime', 'modifiedBy', 'selfUri'] as const;

/** The fields of an object, without its metadata: what a change plans, diffs, writes and verifies. */
export function objectFields(obj: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (!(METADATA_KEYS as readonly string[]).includes(key)) fields[key] = value;
  }
  return fields;
}

/** `GET /api/v2/configuration?lastModifiedTime=…` — one page. */
export const ConfigChangesPageSchema = z.object({
  entities: z.array(ConfigObjectSchema),
  pageSize: z.number().int().positive(),
  pageNumber: z.number().int().positive(),
  total: z.number().int().nonnegative().optional(),
  pageCount: z.number().int().nonnegative(),
});
export type ConfigChangesPage = z.infer<typeof ConfigChangesPageSchema>;

/** The body of a 409: the version the object has now, when Genesys Cloud says so. */
export const ConflictBodySchema = z.looseObject({
  currentVersion: z.number().int().nonnegative().optional(),
});

/** One installation of an integration in one org, as Genesys Cloud reports it (reconciliation's truth). */
export const GenesysInstallationSchema = z.looseObject({
  orgId: z.string().min(1),
  integrationId: z.string().min(1),
  tenantId: z.string().min(1).optional(),
  status: z.enum(['installed', 'disabled']),
  configuration: z.record(z.string(), z.unknown()).optional(),
  installedAt: z.string().optional(),
});
export type GenesysInstallation = z.infer<typeof GenesysInstallationSchema>;

export const InstallationListSchema = z.object({
  entities: z.array(GenesysInstallationSchema),
});

/** `POST /api/v2/webhooks/webhooks` — the seed's body, plus an optional signing `secret`. */
export const WebhookSubscriptionRequestSchema = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  enabled: z.boolean(),
  eventFilters: z.array(z.string().min(1)).min(1),
  httpTarget: z.object({ uri: z.url() }),
  authScheme: z.string().optional(),
  authUsername: z.string().optional(),
  authPassword: z.string().optional(),
  event: z.object({ type: z.string() }).optional(),
  secret: z.string().min(1).optional(),
});
export type WebhookSubscriptionRequest = z.infer<typeof WebhookSubscriptionRequestSchema>;

export const WebhookSubscriptionSchema = z.looseObject({
  id: z.string().min(1),
});
export type WebhookSubscription = z.infer<typeof WebhookSubscriptionSchema>;

/** `PUT /api/v2/integrations/{id}/webhooks` — the lifecycle seed's body. */
export const IntegrationWebhooksRequestSchema = z.object({
  url: z.url(),
  events: z.array(z.enum(['installed', 'uninstalled', 'enabled', 'disabled', 'configuration_updated'])).min(1),
  retryPolicy: z.object({
    maxRetries: z.number().int().nonnegative(),
    initialDelayMs: z.number().int().nonnegative(),
    backoffMultiplier: z.number().min(1),
  }),
  timeoutMs: z.number().int().positive(),
  secret: z.string().min(1),
});
export type IntegrationWebhooksRequest = z.infer<typeof IntegrationWebhooksRequestSchema>;

/** What Genesys Cloud answers for the integration's webhook settings (the secret comes back masked or not at all). */
export const IntegrationWebhooksSchema = z.looseObject({
  url: z.string(),
  events: z.array(z.string()),
});
export type IntegrationWebhooks = z.infer<typeof IntegrationWebhooksSchema>;
