/**
 * A whole Tollgate stack for one test file, built from the real parts: the Genesys Cloud emulator (its own HTTP
 * server), the real worker (workflows bundled once per test file) and the real receivers, wired to each other over
 * loopback HTTP exactly as `npm start` wires them, against the Temporal dev server and PostgreSQL that
 * test/global-setup.ts started for the run.
 *
 * Every stack gets its own task queue, so test files share one Temporal namespace without stealing each other's
 * tasks. Identities (object ids, change ids, org ids) must still be unique per test: use `uniqueId()`.
 *
 * Every stack also gets its own home (a temp dir) with SSH keys for alice, bob, carol and dave and an
 * allowed-signers file, made exactly as `npm start` makes them (cli/sandbox.ts): every test that submits,
 * approves or rejects signs with a real key and the worker verifies it for real. There is no shared key.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, type Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { emulatorSettingsFor, ensureSandboxKeys, generateSandboxSecrets, sandboxEnv, sandboxJiraEnv, sandboxKeyFile, wireSandbox, type SandboxSecrets } from '../../cli/sandbox';
import { ensureEventDeliveries, stopEventDeliveries } from '../../client/event-delivery';
import { connectClient } from '../../client/connection';
import { startEmulator } from '../../emulator/server';
import { GenesysClient } from '../../genesys/client';
import { loadConfig, type Config, type Env } from '../../platform/config';
import { createLogger } from '../../platform/logger';
import { startReceivers } from '../../receivers/server';
import { startAuditChannel, type RunningAuditChannel } from '../../listeners/audit-channel';
import { buildActivityDeps, connectWorker, createWorkers, runWorkers, sharedRequestBudget, WORKFLOWS_PATH } from '../../worker';

export interface StackOptions {
  /** Extra settings, as environment variables (e.g. TOLLGATE_TARGETS, TOLLGATE_REQUIRED_APPROVALS). */
  env?: Record<string, string>;
  /** Start the worker now (default true). `stack.worker.start()` starts it later. */
  worker?: boolean;
  /** Start the receivers and wire the emulator's webhooks to them (default true). */
  receivers?: boolean;
  emulatorSettings?: Record<string, unknown>;
  /** Run the notification-channel listener beside the worker (listeners/audit-channel.ts), as `tollgate worker` does. */
  auditChannel?: boolean;
  /** Send the change tickets to the emulator's Jira, as `npm start` does in sandbox mode. */
  jira?: boolean;
}

export interface TestStack {
  config: Config;
  /** The environment the stack's config was loaded from: pass it to `node bin/tollgate.js` child processes. */
  env: Env;
  client: Client;
  taskQueue: string;
  emulator: { url: string; admin<T = any>(method: string, path: string, body?: unknown): Promise<T> };
  receiversUrl: string;
  integrationId: string;
  secrets: SandboxSecrets;
  /** The stack's TOLLGATE_HOME: its keys and allowed signers live here. */
  home: string;
  /** The private key file of a sandbox person (alice, bob, carol, dave). */
  keyPath(name: string): string;
  allowedSignersPath: string;
  databaseUrl: string;
  genesys: GenesysClient;
  worker: { start(): Promise<void>; stop(): Promise<void>; running(): boolean };
  /** The notification-channel listener, while the worker runs with `auditChannel`. */
  auditChannel(): RunningAuditChannel | undefined;
  close(): Promise<void>;
}

let bundle: Promise<{ code: string }> | undefined;

/** Workflow code bundled once per test file (jest gives each file its own module registry). */
export function workflowBundle(): Promise<{ code: string }> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  return bundle;
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta),
};

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (test/global-setup.ts sets it)`);
  return value;
}

export async function startTestStack(options: StackOptions = {}): Promise<TestStack> {
  const secrets = generateSandboxSecrets();
  const home = mkdtempSync(join(tmpdir(), 'tollgate-stack-'));
  const keys = ensureSandboxKeys(home);
  const emulator = await startEmulator({ port: 0, settings: { ...emulatorSettingsFor(secrets), ...options.emulatorSettings } });
  const taskQueue = uniqueId('test');
  const integrationId = uniqueId('integration');
  const databaseUrl = required('TOLLGATE_TEST_DATABASE_URL');
  const env: Env = {
    LOG_LEVEL: process.env.TOLLGATE_TEST_LOG_LEVEL ?? 'error',
    TEMPORAL_ADDRESS: required('TOLLGATE_TEST_TEMPORAL_ADDRESS'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    EMULATOR_PORT: String(emulator.port),
    RECEIVER_PORT: '0',
    DATABASE_URL: databaseUrl,
    TOLLGATE_BUSINESS_HOURS: 'always',
    // Tests measure behaviour, not the production request budget.
    GENESYS_REQUESTS_PER_MINUTE: '60000',
    TOLLGATE_HOME: home,
    TOLLGATE_ALLOWED_SIGNERS: keys.allowedSignersPath,
    ...sandboxEnv(secrets, integrationId),
    ...(options.jira ? sandboxJiraEnv(secrets, emulator.url) : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, name: 'tollgate-test' });
  const client = await connectClient(config.temporal);
  // The test's own Genesys calls use the same OAuth client as the worker, so they share its budget too.
  const genesys = new GenesysClient(config.genesys, { logger, budget: sharedRequestBudget(config, databaseUrl) });

  const receivers = options.receivers === false ? undefined : await startReceivers({ config, logger, temporal: client, taskQueue });
  if (receivers) {
    await wireSandbox({
      genesys,
      emulatorUrl: emulator.url,
      receiversUrl: receivers.url,
      secrets,
      integrationId,
      lifecycleRetry: { maxRetries: 5, initialDelayMs: 200, backoffMultiplier: 2 },
    });
  }

  let running: { workers: Worker[]; done: Promise<void>; abort: AbortController; channel?: RunningAuditChannel; close(): Promise<void> } | undefined;
  const worker = {
    running: () => running !== undefined,
    async start() {
      if (running) return;
      const connection = await connectWorker(config);
      const deps = buildActivityDeps({ config, logger, temporal: client, databaseUrl });
      const workers = await createWorkers({
        config,
        connection,
        activities: createActivities(deps),
        taskQueue,
        workflowBundle: await workflowBundle(),
      });
      const abort = new AbortController();
      const done = runWorkers(workers, abort.signal);
      const channel = options.auditChannel ? startAuditChannel({ config, logger, temporal: client, genesys: deps.genesys, databaseUrl, taskQueue }) : undefined;
      running = {
        workers,
        done,
        abort,
        channel,
        close: async () => {
          await channel?.stop();
          await connection.close();
          await deps.genesys.close();
        },
      };
    },
    async stop() {
      if (!running) return;
      const current = running;
      running = undefined;
      current.abort.abort();
      await current.done;
      await current.close();
    },
  };
  if (options.worker !== false) await worker.start();
  // The outbound event deliveries this stack's configuration names (none unless a test configures endpoints).
  await ensureEventDeliveries(client, config, taskQueue);

  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${emulator.url}/__emulator${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator ${method} ${path} → ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  return {
    config,
    env,
    client,
    taskQueue,
    emulator: { url: emulator.url, admin },
    receiversUrl: receivers?.url ?? '',
    integrationId,
    secrets,
    home,
    keyPath: (name: string) => sandboxKeyFile(home, name),
    allowedSignersPath: keys.allowedSignersPath,
    databaseUrl,
    genesys,
    worker,
    auditChannel: () => running?.channel,
    async close() {
      await worker.stop();
      await stopEventDeliveries(client, config, taskQueue);
      await receivers?.close();
      await emulator.close();
      await genesys.close();
      await client.connection.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` returns a truthy value, polling; fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string | (() => string), check: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}${lastError ? `: last error ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
