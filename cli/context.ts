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
import { connectClient } from '../client/connection';
import { AuditLedger } from '../ledger/audit-ledger';
import { loadConfig, withSandboxEnv, type Config } from '../platform/config';
import { projectHome } from '../platform/paths';

export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, unavailable: 4 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
    readonly details?: Record<string, unknown>,
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
  /** Prints `data` as one JSON document with --json, otherwise `text`. */
  print(json: boolean, data: unknown, text: string): void;
  close(): Promise<void>;
}

export function createCliContext(env: NodeJS.ProcessEnv = process.env): CliContext {
  let config: Config | undefined;
  let client: Client | undefined;
  let pool: Pool | undefined;
  const context: CliContext = {
    config() {
      if (!config) {
        config = loadConfig(withSandboxEnv(env, join(projectHome(env), 'sandbox.env')));
      }
      return config;
    },
    async client() {
      if (!client) {
        try {
          client = await connectClient(context.config().temporal);
        } catch (error) {
          throw new CliError(`cannot reach Temporal: ${(error as Error).message}`, EXIT.unavailable);
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
    print(json, data, text) {
      process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
    },
    async close() {
      await client?.connection.close();
      await pool?.end();
    },
  };
  return context;
}
