/**
 * Tollgate's configuration: read once from the environment at process start, validated with zod, then passed in.
 * Nothing below `platform/` reads `process.env`.
 *
 * Every secret can also come from a file: `NAME_FILE=/run/secrets/name` (Docker / Kubernetes secrets).
 * A bad or missing setting stops the process with a message that names the variable.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { canonicalPrincipal, principalProblem } from '../approvals/principal';
import { projectHome } from './paths';

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `30s`, `5m`, `1h`, `7d` (or a bare number of milliseconds) into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) throw new Error(`not a duration: "${text}" (use e.g. 500ms, 30s, 5m, 1h, 7d)`);
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']);
}

/** A duration setting or CLI option (`30s`, `5m`, …) as milliseconds. */
export const durationSchema = z.string().transform((text, ctx) => {
  try {
    return parseDuration(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});
const port = z.coerce.number().int().min(0).max(65535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');
const list = z.string().transform((text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);
const url = z.string().url();
/** `login=principal` pairs, comma-separated: Git host logins mapped to the principals they speak for. */
const loginMap = z.string().transform((text, ctx) => {
  const map: Record<string, string> = {};
  for (const entry of text.split(',').map((item) => item.trim()).filter((item) => item.length > 0)) {
    const eq = entry.indexOf('=');
    const login = eq > 0 ? entry.slice(0, eq).trim().toLowerCase() : '';
    const principal = eq > 0 ? canonicalPrincipal(entry.slice(eq + 1)) : undefined;
    if (!/^[a-z0-9](?:[a-z0-9-]{0,38})(?:\[bot\])?$/.test(login) || !principal) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not login=principal` });
      return z.NEVER;
    }
    map[login] = principal;
  }
  return map;
});
/** Principals: trimmed, case-insensitive, never blank (approvals/principal.ts). */
const principalList = list.transform((items, ctx) => {
  const principals: string[] = [];
  for (const item of items) {
    const principal = canonicalPrincipal(item);
    if (!principal) {
      ctx.addIssue({ code: 'custom', message: principalProblem(item) ?? `"${item}" is not a principal` });
      return z.NEVER;
    }
    if (!principals.includes(principal)) principals.push(principal);
  }
  return principals;
});
/** `owner/repo` names, compared in lower case as GitHub does. */
const repositoryList = list.transform((items, ctx) => {
  for (const item of items) {
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(item)) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not owner/repo` });
      return z.NEVER;
    }
  }
  return items.map((item) => item.toLowerCase());
});

/** How a receiver finds and checks a signature. The seeds' scheme is the default; GitHub / Open Messaging's
 * `X-Hub-Signature-256: sha256=<hex>` is a matter of settings. */
export const SignatureProfileSchema = z.object({
  header: z.string().min(1),
  encoding: z.enum(['hex', 'base64']),
  prefix: z.string(),
  timestampHeader: z.string().min(1).optional(),
  toleranceSeconds: z.number().int().positive(),
});
export type SignatureProfile = z.infer<typeof SignatureProfileSchema>;

/** Per target type: how Genesys Cloud expects `version` on a write, and what an unapproved change triggers. */
export const TargetTypePolicySchema = z.object({
  /** `increment`: send current + 1 (the seed's rule). `current`: send the current version (Genesys-native). */
  versionRule: z.enum(['increment', 'current']).default('increment'),
  /** `alert`: drift raises an alert. `revert`: it also restores the last approved state through the deploy path. */
  onDrift: z.enum(['alert', 'revert']).default('alert'),
});
export type TargetTypePolicy = z.infer<typeof TargetTypePolicySchema>;
const targetTypes = z.string().transform((text, ctx) => {
  try {
    return z.record(z.string(), TargetTypePolicySchema).parse(JSON.parse(text));
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `must be JSON like {"ivr":{"versionRule":"increment","onDrift":"revert"}}: ${(error as Error).message}` });
    return z.NEVER;
  }
});

/**
 * Genesys Cloud regions: the host both the login (`login.<host>`) and the API (`api.<host>`) live under. The
 * official SDK's region table (`PureCloudRegionHosts`); GENESYS_REGION takes either form (`eu-west-1` or
 * `mypurecloud.ie`).
 */
export const GENESYS_REGIONS: Readonly<Record<string, string>> = {
  'us-east-1': 'mypurecloud.com',
  'us-east-2': 'use2.us-gov-pure.cloud',
  'us-west-2': 'usw2.pure.cloud',
  'ca-central-1': 'cac1.pure.cloud',
  'sa-east-1': 'sae1.pure.cloud',
  'mx-central-1': 'mxc1.pure.cloud',
  'eu-west-1': 'mypurecloud.ie',
  'eu-west-2': 'euw2.pure.cloud',
  'eu-central-1': 'mypurecloud.de',
  'eu-central-2': 'euc2.pure.cloud',
  'me-central-1': 'mec1.pure.cloud',
  'ap-south-1': 'aps1.pure.cloud',
  'ap-southeast-1': 'apse1.pure.cloud',
  'ap-southeast-2': 'mypurecloud.com.au',
  'ap-northeast-1': 'mypurecloud.jp',
  'ap-northeast-2': 'apne2.pure.cloud',
  'ap-northeast-3': 'apne3.pure.cloud',
};

/** A region name or host → the region's host; undefined when it is neither. */
export function genesysRegionHost(region: string): string | undefined {
  const name = region.trim().toLowerCase().replace(/_/g, '-');
  if (GENESYS_REGIONS[name]) return GENESYS_REGIONS[name];
  return Object.values(GENESYS_REGIONS).includes(name) ? name : undefined;
}

const genesysRegion = z.string().transform((text, ctx) => {
  const host = genesysRegionHost(text);
  if (!host) {
    ctx.addIssue({ code: 'custom', message: `unknown region; use one of ${Object.keys(GENESYS_REGIONS).join(', ')} or its host (${Object.values(GENESYS_REGIONS).join(', ')})` });
    return z.NEVER;
  }
  return host;
});

/** `{"POST /api/v2/audits/query": 60, "GET /api/v2/users": 100}`: lower budgets (requests a minute) per resource. */
const resourceBudgets = z.string().transform((text, ctx) => {
  try {
    const parsed = z.record(z.string().regex(/^(GET|POST|PUT|PATCH|DELETE|HEAD|\*) \/api\/v2\/\S*$/), z.number().int().positive()).parse(JSON.parse(text));
    return Object.entries(parsed).map(([key, perMinute]) => {
      const [method, pathPrefix] = key.split(' ');
      return { method: method === '*' ? undefined : method, pathPrefix, perMinute };
    });
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `must be JSON like {"POST /api/v2/audits/query": 60}: ${(error as Error).message}` });
    return z.NEVER;
  }
});

/** An endpoint's name: its cursor's name and its workflow's (`event-delivery:<queue>:<name>`). */
const ENDPOINT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** An event type pattern: `change.approved`, `change.*`, `audit.*`, `*`. */
const EVENT_TYPE_PATTERN = /^(\*|[a-z_]+\.(\*|[a-z_]+))$/;
/** A target pattern: an address `TYPE/ID` where `*` stands for any characters (`architect.*`, `ivr/main-*`). */
const TARGET_PATTERN = /^[A-Za-z0-9_.*-]+(\/\S*)?$/;

/** TOLLGATE_EVENT_ENDPOINTS: where signed change events go (no secrets here; see TOLLGATE_EVENT_SECRETS). */
export const EventEndpointSchema = z.object({
  name: z
    .string()
    .regex(ENDPOINT_NAME, 'letters, digits, ".", "_", "-", at most 63')
    .refine((name) => name !== JIRA_ENDPOINT, 'is the Jira adapter\'s name'),
  url: z.url({ protocol: /^https?$/ }),
  /** Only these event types (default: every `change.*` and `audit.*`). */
  types: z.array(z.string().regex(EVENT_TYPE_PATTERN, 'an event type or pattern like change.* or audit.drift')).min(1).optional(),
  /** Only events about these targets (default: every target). */
  targets: z.array(z.string().regex(TARGET_PATTERN, 'a target address or pattern like architect.* or ivr/main-*')).min(1).optional(),
  /** Where a new endpoint starts: `now` (the ledger's head when its cursor is made) or `start` (every row kept). */
  from: z.enum(['now', 'start']).default('now'),
});
/** The Jira adapter's endpoint name (its cursor and its workflow). */
export const JIRA_ENDPOINT = 'jira';

const eventEndpoints = z.string().transform((text, ctx) => {
  try {
    const endpoints = z.array(EventEndpointSchema).parse(JSON.parse(text));
    const names = endpoints.map((endpoint) => endpoint.name);
    const twice = names.find((name, index) => names.indexOf(name) !== index);
    if (twice) throw new Error(`the endpoint name "${twice}" is used twice`);
    return endpoints;
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `must be a JSON array like [{"name":"change-feed","url":"https://…"}]: ${error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message}` });
    return z.NEVER;
  }
});

/**
 * A Standard Webhooks signing secret: `whsec_` then base64 of 24 to 64 random bytes (the specification's "at least
 * 24 bytes"). Returned as written; the signer decodes it.
 */
export function webhookSecretProblem(secret: string): string | undefined {
  const body = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) return 'is not whsec_ followed by base64';
  const bytes = Buffer.from(body, 'base64').length;
  if (bytes < 24 || bytes > 64) return `decodes to ${bytes} bytes; use 24 to 64 random bytes (e.g. whsec_$(openssl rand -base64 32))`;
  return undefined;
}

/** TOLLGATE_EVENT_SECRETS: `{"<endpoint>": "whsec_…"}`, or a list (the first signs too: rotation) per endpoint. */
const eventSecrets = z.string().transform((text, ctx) => {
  try {
    const parsed = z.record(z.string(), z.union([z.string(), z.array(z.string()).min(1)])).parse(JSON.parse(text));
    const secrets: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(parsed)) {
      secrets[name] = Array.isArray(value) ? value : [value];
      for (const secret of secrets[name]) {
        const problem = webhookSecretProblem(secret);
        if (problem) throw new Error(`the secret of "${name}" ${problem}`);
      }
    }
    return secrets;
  } catch (error) {
    // Never echo the value: it is secret.
    ctx.addIssue({ code: 'custom', message: `must be JSON like {"change-feed":"whsec_…"}: ${error instanceof z.ZodError ? 'not an object of strings or string lists' : (error as Error).message}` });
    return z.NEVER;
  }
});

/** Moments of a change that can move its Jira issue, each to a transition named by TOLLGATE_JIRA_TRANSITIONS. */
export const TICKET_MOMENTS = ['approved', 'deploying', 'done', 'rejected', 'withdrawn', 'expired', 'cancelled', 'failed', 'rolled_back', 'diverged'] as const;
export type TicketMoment = (typeof TICKET_MOMENTS)[number];
/** The default transition names: the emulator's Jira Service Management change workflow (docs/tickets.md). */
export const DEFAULT_JIRA_TRANSITIONS: Partial<Record<TicketMoment, string>> = {
  deploying: 'Implement',
  done: 'Done',
  rejected: 'Decline',
  withdrawn: 'Cancel',
  expired: 'Cancel',
  cancelled: 'Cancel',
  failed: 'Mark as failed',
  rolled_back: 'Mark as failed',
  diverged: 'Mark as failed',
};
const jiraTransitions = z.string().transform((text, ctx) => {
  try {
    // An empty name turns a default transition off.
    return z.partialRecord(z.enum(TICKET_MOMENTS), z.string()).parse(JSON.parse(text));
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `must be JSON like {"done":"Done","rejected":"Decline"} with keys ${TICKET_MOMENTS.join(', ')}: ${error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message}` });
    return z.NEVER;
  }
});
const targetPatterns = list.transform((items, ctx) => {
  for (const item of items) {
    if (!TARGET_PATTERN.test(item)) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not a target address or pattern like architect.* or ivr/main-*` });
      return z.NEVER;
    }
  }
  return items;
});

const onOff = z.enum(['on', 'off', 'true', 'false', '1', '0']).transform((value) => value === 'on' || value === 'true' || value === '1');

/** `Mon-Fri 08:00-18:00` or `always`. */
export const BusinessHoursSchema = z.string().transform((text, ctx) => {
  if (text.trim() === 'always') return { always: true as const };
  const match = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)-(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text.trim());
  if (!match) {
    ctx.addIssue({ code: 'custom', message: 'use "always" or a range like "Mon-Fri 08:00-18:00"' });
    return z.NEVER;
  }
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  return {
    always: false as const,
    fromDay: days.indexOf(match[1]),
    toDay: days.indexOf(match[2]),
    fromMinute: Number(match[3]) * 60 + Number(match[4]),
    toMinute: Number(match[5]) * 60 + Number(match[6]),
  };
});
export type BusinessHours = z.infer<typeof BusinessHoursSchema>;

/** The raw environment, variable by variable. Defaults are the sandbox's. */
const EnvSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TLS: bool.default(false),
  TEMPORAL_TLS_CERT: z.string().optional(),
  TEMPORAL_TLS_KEY: z.string().optional(),
  TEMPORAL_TLS_CA: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('tollgate'),
  TEMPORAL_CONNECT_TIMEOUT: durationSchema.default(2000),
  TOLLGATE_TEMPORAL_BIN: z.string().optional(),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_DEV_RETENTION: durationSchema.default(7 * 86_400_000),
  WORKER_METRICS_PORT: port.default(9464),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(200),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().positive().default(100),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(1000),

  GENESYS_API_BASE: url.optional(),
  GENESYS_LOGIN_BASE: url.optional(),
  GENESYS_CLIENT_ID: z.string().min(1).optional(),
  GENESYS_CLIENT_SECRET: z.string().min(1).optional(),
  GENESYS_REQUESTS_PER_MINUTE: z.coerce.number().positive().default(300),
  GENESYS_TIMEOUT: durationSchema.default(10_000),
  GENESYS_REGION: genesysRegion.optional(),
  GENESYS_RESOURCE_BUDGETS: resourceBudgets.default([]),
  GENESYS_BUDGET_MARGIN: durationSchema.default(1000),
  GENESYS_SEED_CONTRACT: bool.optional(),
  TOLLGATE_AUDIT_POLL: onOff.default(true),
  TOLLGATE_AUDIT_CHANNEL: onOff.default(true),
  TOLLGATE_AUDIT_TYPES: list.optional(),
  TOLLGATE_AUDIT_OVERLAP: durationSchema.default(2 * 60_000),
  TOLLGATE_CHANNEL_REFRESH: durationSchema.default(10_000),
  TOLLGATE_CHANNEL_RENEW_BEFORE: durationSchema.default(3_600_000),
  TOLLGATE_CHANNEL_TOPIC_LIMIT: z.coerce.number().int().min(1).max(1000).default(1000),

  RECEIVER_HOST: z.string().min(1).default('127.0.0.1'),
  RECEIVER_PORT: port.default(3000),
  RECEIVER_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  // Sized to what one receiver can hand to Temporal well inside the sender's 3 s timeout: beyond it a flood gets
  // a fast 429 + Retry-After instead of timing out (seed 003, Edge Case 1). See docs/receivers.md.
  RECEIVER_MAX_IN_FLIGHT: z.coerce.number().int().positive().default(128),
  RECEIVER_ACK_TIMEOUT: durationSchema.default(2500),
  CONFIG_AUDIT_WEBHOOK_SECRETS: list.optional(),
  CONFIG_AUDIT_SIGNATURE_HEADER: z.string().default('X-Genesys-Signature'),
  CONFIG_AUDIT_SIGNATURE_ENCODING: z.enum(['hex', 'base64']).default('hex'),
  CONFIG_AUDIT_SIGNATURE_PREFIX: z.string().default(''),
  CONFIG_AUDIT_TIMESTAMP_HEADER: z.string().default('X-Genesys-Event-Timestamp'),
  CONFIG_AUDIT_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  LIFECYCLE_WEBHOOK_SECRETS: list.optional(),
  LIFECYCLE_SIGNATURE_HEADER: z.string().default('X-Genesys-Signature'),
  LIFECYCLE_SIGNATURE_ENCODING: z.enum(['hex', 'base64']).default('hex'),
  LIFECYCLE_SIGNATURE_PREFIX: z.string().default(''),
  LIFECYCLE_TIMESTAMP_HEADER: z.string().default('X-Genesys-Event-Timestamp'),
  LIFECYCLE_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(90),
  GITHUB_WEBHOOK_SECRETS: list.optional(),
  GITHUB_SIGNATURE_HEADER: z.string().default('X-Hub-Signature-256'),
  GITHUB_SIGNATURE_ENCODING: z.enum(['hex', 'base64']).default('hex'),
  GITHUB_SIGNATURE_PREFIX: z.string().default('sha256='),
  // GitHub signs the body only and sends no timestamp: empty means "no timestamp header".
  GITHUB_TIMESTAMP_HEADER: z.string().default(''),
  GITHUB_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),

  TOLLGATE_ALLOWED_SIGNERS: z.string().min(1).optional(),
  TOLLGATE_GITHUB_API_URL: url.optional(),
  TOLLGATE_GITHUB_TOKEN: z.string().min(1).optional(),
  TOLLGATE_GITHUB_LOGINS: loginMap.default({}),
  TOLLGATE_GITHUB_REPOSITORIES: repositoryList.optional(),
  TOLLGATE_GITHUB_PATH_PATTERN: z
    .string()
    .refine((pattern) => pattern.includes('{type}') && pattern.includes('{id}'), 'must contain {type} and {id}')
    .default('genesys/{type}/{id}.json'),
  TOLLGATE_PULL_REQUEST_RECHECK_EVERY: durationSchema.default(10 * 60_000),
  TOLLGATE_APPROVERS: principalList.default(['alice', 'bob', 'carol', 'dave']),
  TOLLGATE_REQUIRED_APPROVALS: z.coerce.number().int().min(1).default(2),
  TOLLGATE_APPROVAL_TTL: durationSchema.default(7 * 86_400_000),
  TOLLGATE_TARGETS: targetTypes.default({}),
  TOLLGATE_AUDIT_WAIT: durationSchema.default(10 * 60_000),
  TOLLGATE_HEARTBEAT_EVERY: durationSchema.default(5 * 60_000),
  TOLLGATE_HEARTBEAT_QUIET: durationSchema.default(30 * 60_000),
  TOLLGATE_HEARTBEAT_LOOKBACK: durationSchema.default(24 * 3_600_000),
  TOLLGATE_BUSINESS_HOURS: BusinessHoursSchema.default({ always: false, fromDay: 1, toDay: 5, fromMinute: 8 * 60, toMinute: 18 * 60 }),
  TOLLGATE_TIMEZONE: z.string().default('UTC'),
  TOLLGATE_ALERT_WEBHOOK_URL: url.optional(),

  DATABASE_URL: z.string().min(1).optional(),
  PARTNER_MIDDLEWARE_URL: url.optional(),
  PARTNER_CRM_URL: url.optional(),
  PARTNER_ARCHIVE_URL: url.optional(),
  CRM_CLIENT_SECRET: z.string().min(1).optional(),
  TOLLGATE_INTEGRATION_ID: z.string().min(1).optional(),
  TOLLGATE_SANDBOX_INTEGRATION_ID: z.string().min(1).optional(),
  TOLLGATE_RECONCILE_EVERY: durationSchema.default(3_600_000),
  TOLLGATE_LEDGER_RETENTION: z
    .string()
    .default('forever')
    .transform((text, ctx) => {
      if (text.trim() === 'forever') return undefined;
      try {
        return parseDuration(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `use "forever" or a duration like 2555d: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
  /** Reconciliation deprovisions at most this share of an integration's active installations without
   * `tollgate installation reconcile --confirm` (and never all of more than 3). */
  TOLLGATE_RECONCILE_MAX_DEPROVISION_SHARE: z.coerce.number().min(0).max(1).default(0.1),

  TOLLGATE_EVENT_ENDPOINTS: eventEndpoints.default([]),
  TOLLGATE_EVENT_SECRETS: eventSecrets.default({}),
  TOLLGATE_EVENT_POLL: durationSchema.default(500),
  TOLLGATE_EVENT_TIMEOUT: durationSchema.default(15_000),
  TOLLGATE_EVENT_RETRY_MAX: durationSchema.default(5 * 60_000),
  TOLLGATE_JIRA_URL: url.optional(),
  TOLLGATE_JIRA_USER: z.string().min(1).optional(),
  TOLLGATE_JIRA_API_TOKEN: z.string().min(1).optional(),
  TOLLGATE_JIRA_PROJECT: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{0,9}$/, 'a Jira project key like CHG')
    .optional(),
  TOLLGATE_JIRA_ISSUE_TYPE: z.string().min(1).default('Change'),
  TOLLGATE_JIRA_TRANSITIONS: jiraTransitions.default({}),
  TOLLGATE_JIRA_TARGETS: targetPatterns.optional(),
  TOLLGATE_JIRA_SEARCH_SETTLE: durationSchema.default(30_000),

  EMULATOR_PORT: port.default(4010),
  TOLLGATE_HOME: z.string().optional(),
});

/** Variables that hold secrets: readable from `NAME_FILE`, and never logged. */
export const SECRET_VARIABLES = [
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_KEY',
  'GENESYS_CLIENT_SECRET',
  'CONFIG_AUDIT_WEBHOOK_SECRETS',
  'LIFECYCLE_WEBHOOK_SECRETS',
  'GITHUB_WEBHOOK_SECRETS',
  'TOLLGATE_GITHUB_TOKEN',
  'CRM_CLIENT_SECRET',
  'DATABASE_URL',
  'TOLLGATE_EVENT_SECRETS',
  'TOLLGATE_JIRA_API_TOKEN',
] as const;

/** Resolves `NAME_FILE` into `NAME` for every secret (and the TLS cert/CA, which are files by nature). */
export function resolveFileVariables(env: Env): { env: Env; problems: string[] } {
  const resolved: Env = { ...env };
  const problems: string[] = [];
  for (const name of [...SECRET_VARIABLES, 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_CA']) {
    const path = env[`${name}_FILE`];
    if (!path) continue;
    if (env[name]) {
      problems.push(`${name} and ${name}_FILE are both set; set one`);
      continue;
    }
    try {
      resolved[name] = readFileSync(path, 'utf8').trim();
    } catch (error) {
      problems.push(`${name}_FILE: cannot read ${path}: ${(error as Error).message}`);
    }
  }
  return { env: resolved, problems };
}

export interface GitHubConfig {
  apiUrl: string;
  /** The worker's own token: it reads pull requests, reviews and files itself, never trusting CI to. */
  token: string;
  /** Git host login (lower case) → principal. A login not in the map is nobody's approval. */
  logins: Record<string, string>;
  /** `owner/repo` (lower case) a change may be linked to; undefined: any repository the token can read. */
  repositories?: string[];
  /** Where the file of a target lives in the repository: `{type}` and `{id}` are the target's. */
  pathPattern: string;
  /** How often a change linked to a pull request re-reads its reviews while awaiting approval. */
  recheckEveryMs: number;
}

/** One endpoint that receives the signed change events (Standard Webhooks). */
export interface WebhookEndpointConfig {
  name: string;
  url: string;
  types?: string[];
  targets?: string[];
  from: 'now' | 'start';
  /** Signing secrets (`whsec_…`), newest first: every one signs each event (zero-downtime rotation). */
  secrets: string[];
}

/** The Jira Service Management adapter (tickets/jira-adapter.ts). */
export interface JiraConfig {
  /** The site, e.g. `https://acme.atlassian.net` (the REST API is under `/rest/api/3`). */
  url: string;
  user: string;
  apiToken: string;
  project: string;
  issueType: string;
  /** Transition name per moment of a change; a moment without one moves nothing. */
  transitions: Partial<Record<TicketMoment, string>>;
  targets?: string[];
  /** How long a create whose outcome is unknown waits for Jira's search index before it is sent again. */
  searchSettleMs: number;
}

export interface TemporalConfig {
  /** Unset: `tollgate dev` starts a dev server; the other commands use 127.0.0.1:<port>. */
  address?: string;
  namespace: string;
  taskQueue: string;
  tls?: { cert?: string; key?: string; ca?: string; serverName?: string };
  apiKey?: string;
  binaryPath?: string;
  devServerPort: number;
  uiPort: number;
  /** How long the CLI waits to connect before giving up with exit 4 (processes keep the SDK's default). */
  connectTimeoutMs: number;
  /** Namespace retention `tollgate dev` sets on its dev server. */
  devRetentionMs: number;
}

export interface Config {
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  home: string;
  temporal: TemporalConfig;
  /** True when no Genesys Cloud credentials are configured: the emulator is the target. */
  sandbox: boolean;
  genesys: {
    apiBase: string;
    loginBase: string;
    clientId: string;
    clientSecret: string;
    requestsPerMinute: number;
    timeoutMs: number;
    /** The region host when GENESYS_REGION set the bases. */
    region?: string;
    /** Lower budgets on some resources, shared by every worker like the client's own. */
    resourceBudgets: { method?: string; pathPrefix: string; perMinute: number }[];
    /** Added to the budget's one-minute window, for requests that reach Genesys Cloud later than they left. */
    budgetMarginMs: number;
    /** Whether the seeds' `/api/v2/configuration` contract is served (the emulator serves it; real orgs do not). */
    seedContract: boolean;
  };
  receivers: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    maxInFlight: number;
    ackTimeoutMs: number;
    configAudit: { secrets: string[]; profile: SignatureProfile };
    lifecycle: { secrets: string[]; profile: SignatureProfile };
    github: { secrets: string[]; profile: SignatureProfile };
  };
  changeGate: {
    /** The allowed-signers file (public keys only) that SSH-signed submissions, approvals and rejections are
     * verified against; sandbox default `<home>/allowed_signers`. Undefined: SSH signatures are refused. */
    allowedSignersPath?: string;
    /** The Git host whose pull-request reviews count as approvals; undefined when no token is configured. */
    github?: GitHubConfig;
    /** Canonical principals (trimmed, lower case). */
    approvers: string[];
    requiredApprovals: number;
    approvalTtlMs: number;
    targets: Record<string, TargetTypePolicy>;
    auditWaitMs: number;
    heartbeat: { everyMs: number; quietMs: number; lookbackMs: number; businessHours: BusinessHours; timezone: string };
    /** Drift from the real Audit API: the heartbeat's poll and the notification channel, for these target types
     * (undefined: every supported one). */
    auditTrail: {
      poll: boolean;
      channel: boolean;
      types?: string[];
      overlapMs: number;
      channelRefreshMs: number;
      channelRenewBeforeMs: number;
      /** Topics per channel before the next channel is opened (the platform's limit is about 1,000). */
      channelTopicLimit: number;
    };
  };
  alerts: { webhookUrl?: string };
  /** Outbound change events, from the audit ledger (outbound/, activities/outbound-events.ts). */
  events: {
    webhooks: WebhookEndpointConfig[];
    jira?: JiraConfig;
    /** How often an idle delivery loop looks at the ledger's head. */
    pollMs: number;
    /** Per HTTP request to an endpoint. */
    timeoutMs: number;
    /** The longest wait between two attempts at an event (exponential backoff up to it, or a longer Retry-After). */
    retryMaxMs: number;
    /** GitHub's web host for pull-request links in tickets, when pull requests are read. */
    pullRequestWebUrl?: string;
  };
  /** The audit ledger (ledger/audit-ledger.ts): rows older than `retentionMs` are pruned daily; unset = forever. */
  ledger: { retentionMs?: number };
  lifecycle: {
    databaseUrl?: string;
    middlewareUrl: string;
    crmUrl: string;
    archiveUrl: string;
    crmClientSecret?: string;
    integrationId?: string;
    reconcileEveryMs: number;
    maxDeprovisionShare: number;
  };
  worker: { metricsPort: number; maxConcurrentActivities: number; maxConcurrentWorkflowTasks: number; maxCachedWorkflows: number };
  emulator: { port: number };
}

/** What the emulator listens on in sandbox mode, and the credentials `tollgate dev` gives it. */
export const SANDBOX = {
  clientId: 'tollgate-sandbox',
  emulatorUrl: (port: number) => `http://127.0.0.1:${port}`,
} as const;

export function loadConfig(rawEnv: Env = process.env): Config {
  const { env, problems } = resolveFileVariables(rawEnv);
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  // Settings that depend on each other are checked on the raw values, so one message names every problem.
  if (env.GENESYS_API_BASE || env.GENESYS_REGION) {
    const by = env.GENESYS_API_BASE ? 'GENESYS_API_BASE' : 'GENESYS_REGION';
    for (const name of ['GENESYS_CLIENT_ID', 'GENESYS_CLIENT_SECRET']) {
      if (!env[name]) problems.push(`${name}: required when ${by} is set`);
    }
    for (const name of ['PARTNER_MIDDLEWARE_URL', 'PARTNER_CRM_URL', 'PARTNER_ARCHIVE_URL']) {
      if (!env[name]) problems.push(`${name}: required when ${by} is set (no sandbox partner systems)`);
    }
  }
  if (env.TEMPORAL_TLS_KEY && !env.TEMPORAL_TLS_CERT) problems.push('TEMPORAL_TLS_CERT: required with TEMPORAL_TLS_KEY');
  if (env.TOLLGATE_JIRA_URL) {
    for (const name of ['TOLLGATE_JIRA_USER', 'TOLLGATE_JIRA_API_TOKEN', 'TOLLGATE_JIRA_PROJECT']) {
      if (!env[name]) problems.push(`${name}: required when TOLLGATE_JIRA_URL is set${name === 'TOLLGATE_JIRA_API_TOKEN' ? ' (or TOLLGATE_JIRA_API_TOKEN_FILE)' : ''}`);
    }
  }
  if (parsed.success) {
    for (const endpoint of parsed.data.TOLLGATE_EVENT_ENDPOINTS) {
      if (!parsed.data.TOLLGATE_EVENT_SECRETS[endpoint.name]) {
        problems.push(`TOLLGATE_EVENT_SECRETS: no signing secret for the endpoint "${endpoint.name}" (or TOLLGATE_EVENT_SECRETS_FILE)`);
      }
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  const sandbox = !e.GENESYS_API_BASE && !e.GENESYS_REGION;
  // GENESYS_REGION sets both hosts; explicit bases win over it.
  const regionApi = e.GENESYS_REGION ? `https://api.${e.GENESYS_REGION}` : undefined;
  const regionLogin = e.GENESYS_REGION ? `https://login.${e.GENESYS_REGION}` : undefined;

  const emulatorUrl = SANDBOX.emulatorUrl(e.EMULATOR_PORT);
  const profile = (prefix: 'CONFIG_AUDIT' | 'LIFECYCLE' | 'GITHUB'): SignatureProfile => ({
    header: e[`${prefix}_SIGNATURE_HEADER`],
    encoding: e[`${prefix}_SIGNATURE_ENCODING`],
    prefix: e[`${prefix}_SIGNATURE_PREFIX`],
    timestampHeader: e[`${prefix}_TIMESTAMP_HEADER`] || undefined,
    toleranceSeconds: e[`${prefix}_TOLERANCE_SECONDS`],
  });
  const useTls = e.TEMPORAL_TLS || !!e.TEMPORAL_TLS_CERT || !!e.TEMPORAL_API_KEY;

  const home = projectHome({ TOLLGATE_HOME: e.TOLLGATE_HOME });

  return {
    logLevel: e.LOG_LEVEL,
    home,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      tls: useTls
        ? { cert: e.TEMPORAL_TLS_CERT, key: e.TEMPORAL_TLS_KEY, ca: e.TEMPORAL_TLS_CA, serverName: e.TEMPORAL_TLS_SERVER_NAME }
        : undefined,
      apiKey: e.TEMPORAL_API_KEY,
      binaryPath: e.TOLLGATE_TEMPORAL_BIN,
      devServerPort: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      devRetentionMs: e.TEMPORAL_DEV_RETENTION,
      connectTimeoutMs: e.TEMPORAL_CONNECT_TIMEOUT,
    },
    sandbox,
    genesys: {
      apiBase: e.GENESYS_API_BASE ?? regionApi ?? emulatorUrl,
      loginBase: e.GENESYS_LOGIN_BASE ?? regionLogin ?? e.GENESYS_API_BASE ?? emulatorUrl,
      clientId: e.GENESYS_CLIENT_ID ?? SANDBOX.clientId,
      clientSecret: e.GENESYS_CLIENT_SECRET ?? '',
      requestsPerMinute: e.GENESYS_REQUESTS_PER_MINUTE,
      timeoutMs: e.GENESYS_TIMEOUT,
      ...(e.GENESYS_REGION ? { region: e.GENESYS_REGION } : {}),
      resourceBudgets: e.GENESYS_RESOURCE_BUDGETS,
      budgetMarginMs: e.GENESYS_BUDGET_MARGIN,
      seedContract: e.GENESYS_SEED_CONTRACT ?? sandbox,
    },
    receivers: {
      host: e.RECEIVER_HOST,
      port: e.RECEIVER_PORT,
      bodyLimitBytes: e.RECEIVER_BODY_LIMIT_BYTES,
      maxInFlight: e.RECEIVER_MAX_IN_FLIGHT,
      ackTimeoutMs: e.RECEIVER_ACK_TIMEOUT,
      configAudit: { secrets: e.CONFIG_AUDIT_WEBHOOK_SECRETS ?? [], profile: profile('CONFIG_AUDIT') },
      lifecycle: { secrets: e.LIFECYCLE_WEBHOOK_SECRETS ?? [], profile: profile('LIFECYCLE') },
      github: { secrets: e.GITHUB_WEBHOOK_SECRETS ?? [], profile: profile('GITHUB') },
    },
    changeGate: {
      allowedSignersPath: e.TOLLGATE_ALLOWED_SIGNERS ?? (sandbox ? join(home, 'allowed_signers') : undefined),
      github: e.TOLLGATE_GITHUB_TOKEN
        ? {
            apiUrl: e.TOLLGATE_GITHUB_API_URL ?? (sandbox ? `${emulatorUrl}/github` : 'https://api.github.com'),
            token: e.TOLLGATE_GITHUB_TOKEN,
            logins: e.TOLLGATE_GITHUB_LOGINS,
            repositories: e.TOLLGATE_GITHUB_REPOSITORIES,
            pathPattern: e.TOLLGATE_GITHUB_PATH_PATTERN,
            recheckEveryMs: e.TOLLGATE_PULL_REQUEST_RECHECK_EVERY,
          }
        : undefined,
      approvers: e.TOLLGATE_APPROVERS,
      requiredApprovals: e.TOLLGATE_REQUIRED_APPROVALS,
      approvalTtlMs: e.TOLLGATE_APPROVAL_TTL,
      targets: e.TOLLGATE_TARGETS,
      auditWaitMs: e.TOLLGATE_AUDIT_WAIT,
      heartbeat: {
        everyMs: e.TOLLGATE_HEARTBEAT_EVERY,
        quietMs: e.TOLLGATE_HEARTBEAT_QUIET,
        lookbackMs: e.TOLLGATE_HEARTBEAT_LOOKBACK,
        businessHours: e.TOLLGATE_BUSINESS_HOURS,
        timezone: e.TOLLGATE_TIMEZONE,
      },
      auditTrail: {
        poll: e.TOLLGATE_AUDIT_POLL,
        channel: e.TOLLGATE_AUDIT_CHANNEL,
        ...(e.TOLLGATE_AUDIT_TYPES ? { types: e.TOLLGATE_AUDIT_TYPES } : {}),
        overlapMs: e.TOLLGATE_AUDIT_OVERLAP,
        channelRefreshMs: e.TOLLGATE_CHANNEL_REFRESH,
        channelRenewBeforeMs: e.TOLLGATE_CHANNEL_RENEW_BEFORE,
        channelTopicLimit: e.TOLLGATE_CHANNEL_TOPIC_LIMIT,
      },
    },
    ledger: { retentionMs: e.TOLLGATE_LEDGER_RETENTION },
    events: {
      webhooks: e.TOLLGATE_EVENT_ENDPOINTS.map((endpoint) => ({ ...endpoint, secrets: e.TOLLGATE_EVENT_SECRETS[endpoint.name] })),
      ...(e.TOLLGATE_JIRA_URL
        ? {
            jira: {
              url: e.TOLLGATE_JIRA_URL.replace(/\/+$/, ''),
              user: e.TOLLGATE_JIRA_USER!,
              apiToken: e.TOLLGATE_JIRA_API_TOKEN!,
              project: e.TOLLGATE_JIRA_PROJECT!,
              issueType: e.TOLLGATE_JIRA_ISSUE_TYPE,
              transitions: Object.fromEntries(
                Object.entries({ ...DEFAULT_JIRA_TRANSITIONS, ...e.TOLLGATE_JIRA_TRANSITIONS }).filter(([, name]) => name !== undefined && name.trim() !== ''),
              ),
              ...(e.TOLLGATE_JIRA_TARGETS ? { targets: e.TOLLGATE_JIRA_TARGETS } : {}),
              searchSettleMs: e.TOLLGATE_JIRA_SEARCH_SETTLE,
            },
          }
        : {}),
      pollMs: e.TOLLGATE_EVENT_POLL,
      timeoutMs: e.TOLLGATE_EVENT_TIMEOUT,
      retryMaxMs: e.TOLLGATE_EVENT_RETRY_MAX,
      ...(e.TOLLGATE_GITHUB_TOKEN ? { pullRequestWebUrl: pullRequestWebUrl(e.TOLLGATE_GITHUB_API_URL ?? (sandbox ? `${emulatorUrl}/github` : 'https://api.github.com')) } : {}),
    },
    alerts: { webhookUrl: e.TOLLGATE_ALERT_WEBHOOK_URL ?? (sandbox ? `${emulatorUrl}/partner/alerts` : undefined) },
    lifecycle: {
      databaseUrl: e.DATABASE_URL,
      middlewareUrl: e.PARTNER_MIDDLEWARE_URL ?? `${emulatorUrl}/partner`,
      crmUrl: e.PARTNER_CRM_URL ?? `${emulatorUrl}/partner/crm`,
      archiveUrl: e.PARTNER_ARCHIVE_URL ?? `${emulatorUrl}/partner`,
      crmClientSecret: e.CRM_CLIENT_SECRET,
      integrationId: e.TOLLGATE_INTEGRATION_ID ?? e.TOLLGATE_SANDBOX_INTEGRATION_ID,
      reconcileEveryMs: e.TOLLGATE_RECONCILE_EVERY,
      maxDeprovisionShare: e.TOLLGATE_RECONCILE_MAX_DEPROVISION_SHARE,
    },
    worker: {
      metricsPort: e.WORKER_METRICS_PORT,
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
    },
    emulator: { port: e.EMULATOR_PORT },
  };
}

/** The web host of a GitHub API URL: `https://api.github.com` → `https://github.com`; GitHub Enterprise's
 * `https://host/api/v3` → `https://host`; anything else (the sandbox emulator) as it is. */
export function pullRequestWebUrl(apiUrl: string): string {
  const trimmed = apiUrl.replace(/\/+$/, '');
  if (/^https:\/\/api\.github\.com$/i.test(trimmed)) return 'https://github.com';
  return trimmed.replace(/\/api\/v3$/i, '');
}

/** Policy of one target type, with defaults for types the configuration does not name. */
export function targetTypePolicy(config: Config, type: string): TargetTypePolicy {
  return config.changeGate.targets[type] ?? TargetTypePolicySchema.parse({});
}

/** Reads `KEY=VALUE` lines (the format of `.tollgate/sandbox.env`). Blank lines and `#` comments are skipped. */
export function parseEnvFile(text: string): Env {
  const env: Env = {};
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) continue;
    env[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1);
  }
  return env;
}

/** The process environment over the sandbox settings that `tollgate dev` wrote: the environment wins. */
export function withSandboxEnv(env: Env, sandboxEnvPath: string): Env {
  try {
    return { ...parseEnvFile(readFileSync(sandboxEnvPath, 'utf8')), ...env };
  } catch {
    return env;
  }
}
