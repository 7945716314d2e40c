/**
 * Sandbox mode, beside the dev stack (cli/dev.ts) that uses it: no Genesys Cloud credentials are configured, so the
 * emulator is the target (and plays GitHub). This module makes the dev-only secrets, the sandbox people's SSH keys
 * (`.tollgate/keys/<name>`, OpenSSH Ed25519, mode 600) and the `.tollgate/allowed_signers` that lists their public
 * halves, the emulator's matching settings, the `.tollgate/sandbox.env` lines the CLI reads, and wires the
 * emulator's webhooks to the receivers — through the Genesys-shaped API, as an operator would in a real org.
 * There is no shared approval key: each person signs with their own key, as outside the sandbox. The emulator's Jira
 * gets the change tickets (`sandboxJiraEnv`).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateEd25519Key, parsePrivateKey, publicKeyLine } from '../approvals/ssh-keys';
import type { GenesysClient } from '../genesys/client';
import { SANDBOX, type Env } from '../platform/config';
import { LIFECYCLE_EVENTS } from '../workflows/installation-messages';

/** The sandbox's people: each gets a key pair, and each is an approver (TOLLGATE_APPROVERS' default). */
export const SANDBOX_PEOPLE = ['alice', 'bob', 'carol', 'dave'] as const;

export interface SandboxSecrets {
  genesysClientSecret: string;
  configAudit: string;
  lifecycle: string;
  crm: string;
  /** The worker's token for the emulator's GitHub API. */
  githubToken: string;
  /** Signs the emulator's GitHub webhooks (`X-Hub-Signature-256`). */
  githubWebhook: string;
  /** The worker's API token for the emulator's Jira (the change tickets). */
  jiraToken: string;
}

export function generateSandboxSecrets(): SandboxSecrets {
  const secret = () => randomBytes(24).toString('hex');
  return {
    genesysClientSecret: secret(),
    configAudit: secret(),
    lifecycle: secret(),
    crm: secret(),
    githubToken: secret(),
    githubWebhook: secret(),
    jiraToken: secret(),
  };
}

export interface SandboxKeys {
  keysDir: string;
  allowedSignersPath: string;
  /** People whose keys were made now (the others were kept from an earlier run). */
  generated: string[];
}

/** `.tollgate/keys/<name>` for a sandbox person. */
export function sandboxKeyFile(home: string, name: string): string {
  return join(home, 'keys', name);
}

/**
 * Makes an Ed25519 key pair for each sandbox person that has none yet (`keys/<name>`, mode 600, and
 * `keys/<name>.pub`), and the allowed-signers file listing their public keys (git's format, restricted to the
 * `tollgate` namespace). Existing keys and an existing allowed-signers file are kept across restarts; a person
 * whose key is new is appended to it.
 */
export function ensureSandboxKeys(home: string, people: readonly string[] = SANDBOX_PEOPLE): SandboxKeys {
  const keysDir = join(home, 'keys');
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const lines = new Map<string, string>();
  const generated: string[] = [];
  for (const name of people) {
    const path = sandboxKeyFile(home, name);
    const comment = `${name}@tollgate-sandbox`;
    let publicKey;
    if (existsSync(path)) {
      publicKey = parsePrivateKey(readFileSync(path, 'utf8')).publicKey;
    } else {
      const made = generateEd25519Key(comment);
      writeFileSync(path, made.privateKeyText, { mode: 0o600 });
      chmodSync(path, 0o600);
      writeFileSync(`${path}.pub`, `${publicKeyLine(made.publicKey, comment)}\n`);
      publicKey = made.publicKey;
      generated.push(name);
    }
    lines.set(name, `${name} namespaces="tollgate" ${publicKeyLine(publicKey, comment)}`);
  }
  const allowedSignersPath = join(home, 'allowed_signers');
  if (!existsSync(allowedSignersPath)) {
    const header = '# Written by `tollgate dev`: who may sign submissions, approvals and rejections in the sandbox (public keys only).\n';
    writeFileSync(allowedSignersPath, `${header}${[...lines.values()].join('\n')}\n`);
  } else if (generated.length > 0) {
    appendFileSync(allowedSignersPath, `${generated.map((name) => lines.get(name)).join('\n')}\n`);
  }
  return { keysDir, allowedSignersPath, generated };
}

/** Reads secrets back from an earlier sandbox.env, so a restart keeps the same ones. */
export function secretsFromEnv(env: Env): SandboxSecrets | undefined {
  const values = {
    genesysClientSecret: env.GENESYS_CLIENT_SECRET,
    configAudit: env.CONFIG_AUDIT_WEBHOOK_SECRETS,
    lifecycle: env.LIFECYCLE_WEBHOOK_SECRETS,
    crm: env.CRM_CLIENT_SECRET,
    githubToken: env.TOLLGATE_GITHUB_TOKEN,
    githubWebhook: env.GITHUB_WEBHOOK_SECRETS,
  };
  if (!Object.values(values).every((value) => typeof value === 'string' && value.length > 0)) return undefined;
  // A sandbox.env written before the sandbox had Jira keeps its other secrets and gains a Jira token.
  return { ...(values as Omit<SandboxSecrets, 'jiraToken'>), jiraToken: env.TOLLGATE_JIRA_API_TOKEN || randomBytes(24).toString('hex') };
}

/** Settings for `startEmulator` that accept exactly these secrets. */
export function emulatorSettingsFor(secrets: SandboxSecrets) {
  return {
    clients: { [SANDBOX.clientId]: secrets.genesysClientSecret },
    crmSecret: secrets.crm,
    auditWebhookSecret: secrets.configAudit,
    githubToken: secrets.githubToken,
    jiraUsers: { [SANDBOX_JIRA.user]: secrets.jiraToken },
  };
}

/** The sandbox's Jira Service Management (the emulator's, under `/jira`): its user and the project tickets go to. */
export const SANDBOX_JIRA = { user: 'tollgate-bot@sandbox.example', project: 'CHG' } as const;

/** The settings that point the Jira adapter at the emulator's Jira (`npm start` in sandbox mode; tests that opt in). */
export function sandboxJiraEnv(secrets: SandboxSecrets, emulatorUrl: string): Env {
  return {
    TOLLGATE_JIRA_URL: `${emulatorUrl}/jira`,
    TOLLGATE_JIRA_USER: SANDBOX_JIRA.user,
    TOLLGATE_JIRA_API_TOKEN: secrets.jiraToken,
    TOLLGATE_JIRA_PROJECT: SANDBOX_JIRA.project,
  };
}

/** The settings Tollgate needs to talk to a sandbox built from these secrets. */
export function sandboxEnv(secrets: SandboxSecrets, integrationId: string): Env {
  return {
    GENESYS_CLIENT_ID: SANDBOX.clientId,
    GENESYS_CLIENT_SECRET: secrets.genesysClientSecret,
    CONFIG_AUDIT_WEBHOOK_SECRETS: secrets.configAudit,
    LIFECYCLE_WEBHOOK_SECRETS: secrets.lifecycle,
    CRM_CLIENT_SECRET: secrets.crm,
    TOLLGATE_SANDBOX_INTEGRATION_ID: integrationId,
    TOLLGATE_GITHUB_TOKEN: secrets.githubToken,
    GITHUB_WEBHOOK_SECRETS: secrets.githubWebhook,
    TOLLGATE_JIRA_API_TOKEN: secrets.jiraToken,
    // The emulator's GitHub users are the sandbox people, under their own names.
    TOLLGATE_GITHUB_LOGINS: SANDBOX_PEOPLE.map((name) => `${name}=${name}`).join(','),
  };
}

export function formatEnvFile(env: Env, header: string): string {
  const lines = Object.entries(env)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${value}`);
  return `# ${header}\n${lines.join('\n')}\n`;
}

/** One real-platform demo object the sandbox starts with. */
export interface DemoObject {
  type: string;
  id: string;
  name: string;
}

const AnyObject = z.record(z.string(), z.unknown());

/**
 * Real Platform API objects for the sandbox, created through the real API (POST on each collection, as in an org),
 * so that `tollgate change submit --target architect.schedule/<id> …` works out of the box and drift on them is
 * flagged by the Audit API poll and the notification channel. Their ids are the emulator's; `tollgate dev` prints them.
 */
/**
 * The demo objects an earlier start created, from the emulator's admin state (it keeps them across restarts), so a
 * restart prints the same ids instead of creating new ones. Empty when there are none.
 */
export function keptPlatformDemo(platformObjects: Array<{ type: string; path: string; object: Record<string, unknown> }>): DemoObject[] {
  return platformObjects
    .filter((entry) => DEMO_NAMES.has(String(entry.object.name ?? '')) || entry.type === 'datatable.row')
    .map((entry) => {
      if (entry.type === 'datatable.row') {
        const match = /^\/api\/v2\/flows\/datatables\/([^/]+)\/rows\/(.+)$/.exec(entry.path);
        const key = match ? decodeURIComponent(match[2]) : String(entry.object.key);
        return { type: entry.type, id: `${match ? decodeURIComponent(match[1]) : ''}/${key}`, name: `Office hours: ${key}` };
      }
      return { type: entry.type, id: String(entry.object.id), name: String(entry.object.name) };
    });
}

const DEMO_NAMES = new Set(['Business hours', 'Main office', 'Main IVR', 'Building evacuation', 'Sales', 'Resolved', 'Ada Agent']);

export async function seedPlatformDemo(genesys: GenesysClient): Promise<DemoObject[]> {
  const create = async (type: string, collection: string, body: Record<string, unknown>): Promise<DemoObject> => {
    const created = await genesys.request('POST', collection, AnyObject, body);
    return { type, id: String(created.id), name: String(body.name) };
  };
  const schedule = await create('architect.schedule', '/api/v2/architect/schedules', {
    name: 'Business hours',
    start: '2026-01-05T08:00:00.000',
    end: '2026-01-05T18:00:00.000',
    rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
  });
  const objects = [
    schedule,
    await create('architect.schedulegroup', '/api/v2/architect/schedulegroups', { name: 'Main office', timeZone: 'Europe/Paris', openSchedules: [{ id: schedule.id }] }),
    await create('architect.ivr', '/api/v2/architect/ivrs', { name: 'Main IVR', dnis: ['+13175550100'], description: 'Inbound routing' }),
    await create('architect.emergencygroup', '/api/v2/architect/emergencygroups', { name: 'Building evacuation', enabled: false }),
    await create('routing.queue', '/api/v2/routing/queues', { name: 'Sales', description: 'Inbound sales', skillEvaluationMethod: 'BEST' }),
    await create('routing.wrapupcode', '/api/v2/routing/wrapupcodes', { name: 'Resolved', description: 'Resolved on first contact' }),
    await create('user', '/api/v2/users', { name: 'Ada Agent', email: 'ada.agent@example.com', divisionId: 'home', acdAutoAnswer: false }),
  ];
  const table = await genesys.request('POST', '/api/v2/flows/datatables', AnyObject, {
    name: 'Office hours',
    schema: { type: 'object', properties: { key: { type: 'string' }, open: { type: 'boolean' }, hours: { type: 'string' } } },
  });
  await genesys.request('POST', `/api/v2/flows/datatables/${String(table.id)}/rows`, AnyObject, { key: 'Paris', open: true, hours: '08:00-18:00' });
  objects.push({ type: 'datatable.row', id: `${String(table.id)}/Paris`, name: 'Office hours: Paris' });
  return objects;
}

/** Points the emulator's config-audit subscription, the sandbox integration's lifecycle webhook and the emulated
 * GitHub's pull-request webhooks at the receivers. */
export async function wireSandbox(options: {
  genesys: GenesysClient;
  /** The emulator's base URL: its GitHub hook is registered through its admin API (`/__emulator/github/hooks`). */
  emulatorUrl: string;
  receiversUrl: string;
  secrets: SandboxSecrets;
  integrationId: string;
  lifecycleRetry?: { maxRetries: number; initialDelayMs: number; backoffMultiplier: number };
}): Promise<void> {
  await options.genesys.createWebhookSubscription({
    name: 'Prod-Config-Change-Auditor',
    description: 'Audits all production configuration changes',
    enabled: true,
    eventFilters: ['configuration.updated'],
    httpTarget: { uri: `${options.receiversUrl}/webhooks/genesys-config-audit` },
    authScheme: 'basic',
    authUsername: 'webhook_user',
    authPassword: 'sandbox',
    event: { type: 'configuration' },
    secret: options.secrets.configAudit,
  });
  await options.genesys.putIntegrationWebhooks(options.integrationId, {
    url: `${options.receiversUrl}/v1/genesys/lifecycle`,
    events: [...LIFECYCLE_EVENTS],
    // The seed's settings: exponential backoff, five attempts, three-second timeout.
    retryPolicy: options.lifecycleRetry ?? { maxRetries: 5, initialDelayMs: 1000, backoffMultiplier: 2 },
    timeoutMs: 3000,
    secret: options.secrets.lifecycle,
  });
  const hook = await fetch(`${options.emulatorUrl}/__emulator/github/hooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${options.receiversUrl}/webhooks/github`, secret: options.secrets.githubWebhook }),
  });
  if (!hook.ok) throw new Error(`the emulator refused the GitHub hook: ${hook.status} ${await hook.text()}`);
}
