/**
 * What every `tollgate` command shares: configuration (the environment over `.tollgate/sandbox.env`), a lazily
 * opened Temporal client, and output that is either human text or `--json`.
 *
 * Exit codes: 0 success; 1 the operation's outcome is a failure (e.g. `change wait` on a rejected change);
 * 2 bad input or configuration; 3 not found; 4 Temporal unreachable.
 */
import { join } from 'node:path';
import { Pool } from 'pg';
import type { Client } from '@temporalio/client';
import { connectClient, temporalAddress } from '../client/connection';
import { AuditLedger } from '../ledger/audit-ledger';
import { loadConfig, withSandboxEnv, type Config } from '../platform/config';
import { projectHome } from '../platform/paths';
import { probeTcp } from '../platform/tcp-probe';

/** How long the CLI waits for a TCP answer before trying the real connection anyway. */
const CONNECT_PROBE_MS = 1000;

export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, unavailable: 4 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
    readonly details?: Record<string, unknown>,
    /** The command already told people (stdout or stderr) and, with --json, printed its document: only the exit
     * code is left to set (`change wait` prints its outcome once). */
    readonly reported = false,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface CliContext {
  config(): Config;
  client(): Promise<Client>;
  /** The audit ledger in PostgreSQL (DATABASE_URL); exit 2 when no database is configured. */
  ledger(): AuditLedger;
  /** The audit ledger when a database is configured, for commands that consult it only as a fallback. */
  ledgerIfConfigured(): AuditLedger | undefined;
  /** Prints `data` as one JSON document with --json, otherwise `text`. */
  print(json: boolean, data: unknown, text: string): void;
  /** Whether a JSON document was printed (an error after it must not print a second one). */
  printed(): boolean;
  close(): Promise<void>;
}

export function createCliContext(env: NodeJS.ProcessEnv = process.env): CliContext {
  let config: Config | undefined;
  let client: Client | undefined;
  let pool: Pool | undefined;
  let printedJson = false;
  const context: CliContext = {
    config() {
      if (!config) {
        config = loadConfig(withSandboxEnv(env, join(projectHome(env), 'sandbox.env')));
      }
      return config;
    },
    async client() {
      if (!client) {
        const { temporal } = context.config();
        const address = temporalAddress(temporal);
        const where = `Temporal at ${address} (namespace ${temporal.namespace})`;
        // A refused port is known at once: no need to wait for the connect timeout (fail fast, exit 4).
        if ((await probeTcp(address, CONNECT_PROBE_MS)) === 'refused') {
          throw new CliError(`cannot reach ${where}: connection refused`, EXIT.unavailable, { address, namespace: temporal.namespace });
        }
        try {
          client = await connectClient(temporal, undefined, temporal.connectTimeoutMs);
        } catch (error) {
          throw new CliError(`cannot reach ${where}: ${(error as Error).message}`, EXIT.unavailable, { address, namespace: temporal.namespace });
        }
      }
      return client;
    },
    ledger() {
      const url = context.config().lifecycle.databaseUrl;
      if (!url) throw new CliError('DATABASE_URL is not set: the audit ledger lives in PostgreSQL', EXIT.usage);
      pool ??= new Pool({ connectionString: url, max: 2 });
      return new AuditLedger(pool);
    },
    ledgerIfConfigured() {
      return context.config().lifecycle.databaseUrl ? context.ledger() : undefined;
    },
    print(json, data, text) {
      if (json) printedJson = true;
      process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
    },
    printed() {
      return printedJson;
    },
    async close() {
      await client?.connection.close();
      await pool?.end();
    },
  };
  return context;
}
