/**
 * The emulator's settings (OAuth clients, token lifetime, audit webhook secret, retry policy and timeout, CRM
 * secret, GitHub token, Jira users and projects): schema and defaults, the partial update of `POST /__emulator/settings`, and what is shown of them
 * (never a secret). Routes read them when used, so a change applies to tokens issued and events emitted afterwards.
 */
import { z } from 'zod';
import { DEFAULT_RATE_LIMITS, RateLimitSettingsSchema } from './request-budgets';

/** How an outgoing webhook delivery is retried: `maxRetries` retries after the first attempt, the first after
 * `initialDelayMs`, each later one `backoffMultiplier` times longer than the one before. */
export const RetryPolicySchema = z.object({
  maxRetries: z.number().int().min(0).max(100),
  initialDelayMs: z.number().int().min(0),
  backoffMultiplier: z.number().min(1),
});
export type RetryPolicy = z.infer<typeof RetryPolicySchema>;

export const EmulatorSettingsSchema = z.object({
  /** OAuth clients the token endpoint accepts: client id → client secret. */
  clients: z.record(z.string().min(1), z.string().min(1)),
  tokenTtlSeconds: z.number().positive(),
  /** Signs `configuration.updated` deliveries of subscriptions that carry no `secret` of their own. */
  auditWebhookSecret: z.string().min(1).optional(),
  /** The CRM client secret the partner CRM accepts (the seed's Edge Case 2 fails on any other). */
  crmSecret: z.string().min(1),
  auditRetry: RetryPolicySchema,
  /** How long a config-audit delivery may take before it counts as a failed attempt. */
  auditTimeoutMs: z.number().int().positive(),
  /** The platform's request budgets (per token, per client, per resource), enforced with the normalised 429. */
  rateLimits: RateLimitSettingsSchema,
  /** How far back `POST /api/v2/audits/query/realtime` reaches (the platform: 14 days). */
  realtimeAuditDays: z.number().positive(),
  /** How long an asynchronous audit query takes before its results are ready. */
  auditQueryDelayMs: z.number().int().min(0),
  /** A notification channel's life without a subscription change (the platform: 24 h). */
  channelTtlSeconds: z.number().positive(),
  channelTopicLimit: z.number().int().positive(),
  /** Channels per OAuth client (the platform: 20). */
  channelLimit: z.number().int().positive(),
  channelHeartbeatSeconds: z.number().int().positive(),
  /** The token the emulated GitHub API (`/github`) accepts; without one it accepts none. */
  githubToken: z.string().min(1).optional(),
  /** Jira users (email → API token) the emulated Jira (`/jira`) accepts with HTTP Basic auth; none by default. */
  jiraUsers: z.record(z.string().min(1), z.string().min(1)),
  /** Jira project keys issues can be created in. */
  jiraProjects: z.array(z.string().regex(/^[A-Z][A-Z0-9_]{0,9}$/)).min(1),
  /** Issue type names Jira accepts. */
  jiraIssueTypes: z.array(z.string().min(1)).min(1),
  /** How long a new issue stays invisible to JQL search (Jira's index trails its writes). */
  jiraSearchLagMs: z.number().int().min(0),
});
export type EmulatorSettings = z.infer<typeof EmulatorSettingsSchema>;

export const defaultSettings: EmulatorSettings = {
  clients: { 'tollgate-sandbox': 'sandbox-secret' },
  tokenTtlSeconds: 3600,
  crmSecret: 'crm-sandbox-secret',
  auditRetry: { maxRetries: 4, initialDelayMs: 200, backoffMultiplier: 2 },
  auditTimeoutMs: 10_000,
  rateLimits: DEFAULT_RATE_LIMITS,
  realtimeAuditDays: 14,
  auditQueryDelayMs: 300,
  channelTtlSeconds: 86_400,
  channelTopicLimit: 1000,
  channelLimit: 20,
  channelHeartbeatSeconds: 30,
  jiraUsers: {},
  jiraProjects: ['CHG'],
  jiraIssueTypes: ['Change', 'Task'],
  jiraSearchLagMs: 0,
};

/** `POST /__emulator/settings`: any subset, and any subset of `auditRetry`. */
export const SettingsPatchSchema = EmulatorSettingsSchema.extend({
  auditRetry: RetryPolicySchema.partial(),
  rateLimits: RateLimitSettingsSchema.partial(),
}).partial();
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

export function applySettingsPatch(current: EmulatorSettings, patch: SettingsPatch): EmulatorSettings {
  return EmulatorSettingsSchema.parse({
    ...current,
    ...patch,
    auditRetry: { ...current.auditRetry, ...patch.auditRetry },
    rateLimits: { ...current.rateLimits, ...patch.rateLimits },
  });
}

/** Parses `EMULATOR_CLIENTS`: `id:secret` pairs, comma-separated. A secret may itself contain `:`. */
export function parseClientList(list: string): Record<string, string> {
  const clients: Record<string, string> = {};
  for (const entry of list.split(',').map((part) => part.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    if (colon <= 0 || colon === entry.length - 1) {
      throw new Error(`EMULATOR_CLIENTS entry "${entry.split(':')[0]}" is not of the form id:secret`);
    }
    clients[entry.slice(0, colon)] = entry.slice(colon + 1);
  }
  return clients;
}

/** What `GET /__emulator/state` and `POST /__emulator/settings` show: secrets are never echoed. */
export function describeSettings(settings: EmulatorSettings): Record<string, unknown> {
  return {
    clients: Object.keys(settings.clients),
    tokenTtlSeconds: settings.tokenTtlSeconds,
    auditWebhookSecretConfigured: settings.auditWebhookSecret !== undefined,
    auditRetry: settings.auditRetry,
    auditTimeoutMs: settings.auditTimeoutMs,
    rateLimits: settings.rateLimits,
    realtimeAuditDays: settings.realtimeAuditDays,
    auditQueryDelayMs: settings.auditQueryDelayMs,
    channelTtlSeconds: settings.channelTtlSeconds,
    channelTopicLimit: settings.channelTopicLimit,
    channelLimit: settings.channelLimit,
    channelHeartbeatSeconds: settings.channelHeartbeatSeconds,
    githubTokenConfigured: settings.githubToken !== undefined,
    jiraUsers: Object.keys(settings.jiraUsers),
    jiraProjects: settings.jiraProjects,
    jiraIssueTypes: settings.jiraIssueTypes,
    jiraSearchLagMs: settings.jiraSearchLagMs,
  };
}
