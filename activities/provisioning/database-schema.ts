/**
 * The tenant's PostgreSQL schema: real SQL against DATABASE_URL (or the embedded server).
 *
 * Tenant IDs come from webhook payloads, so they are hostile input. A schema name is never the tenant ID itself:
 * it is `tenant_` + the ID lower-cased with everything outside [a-z0-9_] replaced by `_` (truncated), + `_` + the
 * first 12 hex digits of the ID's SHA-256 (two IDs that map to the same slug still get different schemas). The
 * result is checked against `^[a-z_][a-z0-9_]{0,62}$` and then double-quoted, so `x"; DROP SCHEMA public; --`
 * becomes the harmless `"tenant_x_drop_schema_public_…_<hash>"`. The tenant ID itself is only ever written as a
 * bound query parameter.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool, PoolClient } from 'pg';
import { FailureType } from '../../workflows/failures';

const SCHEMA_PREFIX = 'tenant_';
const HASH_LENGTH = 12;
/** PostgreSQL truncates identifiers beyond 63 bytes (NAMEDATALEN - 1); ours never reach it. */
const MAX_IDENTIFIER_BYTES = 63;
const SAFE_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export class UnsafeIdentifierError extends Error {
  constructor(identifier: string) {
    super(`refusing unsafe SQL identifier ${JSON.stringify(identifier)}`);
    this.name = 'UnsafeIdentifierError';
  }
}

/** The schema name of a tenant: deterministic, collision-resistant, always a safe identifier. */
export function schemaNameForTenant(tenantId: string): string {
  const hash = createHash('sha256').update(tenantId, 'utf8').digest('hex').slice(0, HASH_LENGTH);
  const room = MAX_IDENTIFIER_BYTES - SCHEMA_PREFIX.length - 1 - HASH_LENGTH;
  const slug = tenantId
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, room)
    .replace(/_+$/, '');
  const name = `${SCHEMA_PREFIX}${slug ? `${slug}_` : ''}${hash}`;
  return assertSafeIdentifier(name);
}

export function assertSafeIdentifier(identifier: string): string {
  if (!SAFE_IDENTIFIER.test(identifier) || Buffer.byteLength(identifier) > MAX_IDENTIFIER_BYTES) {
    throw new UnsafeIdentifierError(identifier);
  }
  return identifier;
}

/** Double-quotes a validated identifier (validation already excludes quotes; quoting keeps reserved words safe). */
export function quoteIdentifier(identifier: string): string {
  return `"${assertSafeIdentifier(identifier).replace(/"/g, '""')}"`;
}

export class TenantSchemas {
  constructor(private readonly pool: () => Pool) {}

  /** CREATE SCHEMA IF NOT EXISTS, plus a small table that records whose schema it is (the tenant ID as a bound
   * parameter). Safe to repeat; a concurrent create of the same schema counts as success. */
  async create(tenantId: string, owner: { orgId: string; integrationId: string }): Promise<{ schemaName: string; created: boolean }> {
    const schemaName = schemaNameForTenant(tenantId);
    const schema = quoteIdentifier(schemaName);
    return this.withClient(async (client) => {
      const existed = await this.exists(client, schemaName);
      try {
        await client.query('BEGIN');
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${schema}.tenant_info (tenant_id text PRIMARY KEY, org_id text NOT NULL, integration_id text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
        );
        await client.query(
          `INSERT INTO ${schema}.tenant_info (tenant_id, org_id, integration_id) VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO NOTHING`,
          [tenantId, owner.orgId, owner.integrationId],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        // Two creates of one schema racing: the loser sees a unique violation; the schema exists, which is the goal.
        if ((error as { code?: string }).code === '23505' || (error as { code?: string }).code === '42P06') {
          return { schemaName, created: false };
        }
        throw error;
      }
      return { schemaName, created: !existed };
    });
  }

  /** DROP SCHEMA IF EXISTS … CASCADE: absent is success. */
  async drop(tenantId: string): Promise<{ schemaName: string; dropped: boolean }> {
    const schemaName = schemaNameForTenant(tenantId);
    return this.withClient(async (client) => {
      const existed = await this.exists(client, schemaName);
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schemaName)} CASCADE`);
      return { schemaName, dropped: existed };
    });
  }

  async exists(client: Pool | PoolClient, schemaName: string): Promise<boolean> {
    const result = await client.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schemaName]);
    return (result.rowCount ?? 0) > 0;
  }

  private async withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool().connect();
    } catch (error) {
      // Retryable: the database may be restarting.
      throw ApplicationFailure.create({ message: `PostgreSQL unavailable: ${(error as Error).message}`, type: FailureType.DatabaseUnavailable });
    }
    try {
      return await work(client);
    } finally {
      client.release();
    }
  }
}
