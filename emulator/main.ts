/**
 * The emulator as a process (`npm run emulator`, `tollgate emulator`): reads and validates the `EMULATOR_*`
 * variables once, starts it, and stops it cleanly on SIGINT / SIGTERM. Tests call `startEmulator` (server.ts).
 */
import pino from 'pino';
import { z } from 'zod';
import { type RunningEmulator, startEmulator, type StartEmulatorOptions } from './server';
import { defaultSettings, parseClientList } from './settings';

/** An empty variable counts as unset, so `EMULATOR_AUDIT_WEBHOOK_SECRET=` in a .env file does not sign with "". */
const unsetWhenEmpty = (value: unknown): unknown => (value === '' ? undefined : value);

const EmulatorEnvSchema = z.object({
  EMULATOR_PORT: z.preprocess(unsetWhenEmpty, z.coerce.number().int().min(0).max(65535).default(4010)),
  EMULATOR_HOST: z.preprocess(unsetWhenEmpty, z.string().default('127.0.0.1')),
  EMULATOR_CLIENTS: z.preprocess(unsetWhenEmpty, z.string().default('tollgate-sandbox:sandbox-secret')),
  EMULATOR_TOKEN_TTL_SECONDS: z.preprocess(unsetWhenEmpty, z.coerce.number().positive().default(defaultSettings.tokenTtlSeconds)),
  EMULATOR_AUDIT_WEBHOOK_SECRET: z.preprocess(unsetWhenEmpty, z.string().optional()),
  EMULATOR_CRM_SECRET: z.preprocess(unsetWhenEmpty, z.string().default(defaultSettings.crmSecret)),
  /** Keep the emulator's state in this file across restarts (unset: in memory only). */
  EMULATOR_STATE_FILE: z.preprocess(unsetWhenEmpty, z.string().optional()),
  EMULATOR_GITHUB_TOKEN: z.preprocess(unsetWhenEmpty, z.string().optional()),
  /** Jira users, `email:token` comma-separated. */
  EMULATOR_JIRA_USERS: z.preprocess(unsetWhenEmpty, z.string().optional()),
  EMULATOR_LOG_LEVEL: z.preprocess(
    unsetWhenEmpty,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
});

export interface EmulatorProcessOptions extends StartEmulatorOptions {
  logLevel: z.infer<typeof EmulatorEnvSchema>['EMULATOR_LOG_LEVEL'];
}

/** Reads and validates the `EMULATOR_*` variables once, at process start. */
export function emulatorOptionsFromEnv(env: NodeJS.ProcessEnv): EmulatorProcessOptions {
  const parsed = EmulatorEnvSchema.parse(env);
  return {
    port: parsed.EMULATOR_PORT,
    host: parsed.EMULATOR_HOST,
    logLevel: parsed.EMULATOR_LOG_LEVEL,
    ...(parsed.EMULATOR_STATE_FILE ? { stateFile: parsed.EMULATOR_STATE_FILE } : {}),
    settings: {
      clients: parseClientList(parsed.EMULATOR_CLIENTS),
      tokenTtlSeconds: parsed.EMULATOR_TOKEN_TTL_SECONDS,
      auditWebhookSecret: parsed.EMULATOR_AUDIT_WEBHOOK_SECRET,
      crmSecret: parsed.EMULATOR_CRM_SECRET,
      githubToken: parsed.EMULATOR_GITHUB_TOKEN,
      ...(parsed.EMULATOR_JIRA_USERS ? { jiraUsers: parseClientList(parsed.EMULATOR_JIRA_USERS) } : {}),
    },
  };
}

/**
 * `npm run emulator`: start from the environment, print the URL, stop cleanly on Ctrl-C or SIGTERM. `logsTo`
 * `stderr` keeps stdout free for a start-up report (`tollgate emulator --json`).
 */
export async function runEmulator(env: NodeJS.ProcessEnv = process.env, output: { logsTo?: 'stdout' | 'stderr' } = {}): Promise<RunningEmulator> {
  const options = emulatorOptionsFromEnv(env);
  const logger = pino({ name: 'genesys-emulator', level: options.logLevel }, pino.destination(output.logsTo === 'stderr' ? 2 : 1));
  const emulator = await startEmulator({ ...options, logger });
  logger.info({ url: emulator.url, clients: Object.keys(options.settings?.clients ?? {}) }, `Genesys Cloud emulator listening on ${emulator.url}`);

  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'stopping the Genesys Cloud emulator');
    emulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'the emulator did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return emulator;
}

if (require.main === module) {
  runEmulator().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
