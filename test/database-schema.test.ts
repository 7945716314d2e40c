/**
 * The schema step's naming and SQL safety: tenant IDs come from webhook payloads, so they are hostile input.
 * Runs real SQL on the test run's PostgreSQL.
 */
import { Pool } from 'pg';
import {
  assertSafeIdentifier,
  quoteIdentifier,
  schemaNameForTenant,
  TenantSchemas,
  UnsafeIdentifierError,
} from '../activities/provisioning/database-schema';
import { randomUUID } from 'node:crypto';

const HOSTILE = 'x"; DROP SCHEMA public; --';

let pool: Pool;

beforeAll(() => {
  const url = process.env.TOLLGATE_TEST_DATABASE_URL;
  if (!url) throw new Error('TOLLGATE_TEST_DATABASE_URL is not set: run through jest (test/global-setup.ts)');
  pool = new Pool({ connectionString: url, max: 4 });
});

afterAll(async () => {
  await pool?.end();
});

async function schemaExists(name: string): Promise<boolean> {
  const result = await pool.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [name]);
  return (result.rowCount ?? 0) > 0;
}

describe('schema names derived from tenant IDs', () => {
  it('maps a tenant ID to tenant_<slug>_<hash>, lower-case [a-z0-9_], at most 63 bytes', () => {
    const name = schemaNameForTenant('tenant_acme_corp');
    expect(name).toMatch(/^tenant_tenant_acme_corp_[0-9a-f]{12}$/);
    for (const id of ['Ünïcødé-Tenant', 'a'.repeat(500), '---', '', 'ACME Corp', HOSTILE, '😀']) {
      const derived = schemaNameForTenant(id);
      expect(derived).toMatch(/^[a-z_][a-z0-9_]*$/);
      expect(Buffer.byteLength(derived)).toBeLessThanOrEqual(63);
    }
  });

  it('gives tenant IDs that share a slug different schemas (the hash suffix)', () => {
    expect(schemaNameForTenant('Acme-Corp')).not.toBe(schemaNameForTenant('acme_corp'));
    expect(schemaNameForTenant('acme.corp')).not.toBe(schemaNameForTenant('acme corp'));
    expect(schemaNameForTenant('acme_corp')).toBe(schemaNameForTenant('acme_corp'));
  });

  it('refuses to quote anything that is not a safe identifier', () => {
    expect(() => assertSafeIdentifier(HOSTILE)).toThrow(UnsafeIdentifierError);
    expect(() => quoteIdentifier('a"b')).toThrow(UnsafeIdentifierError);
    expect(() => quoteIdentifier('x'.repeat(64))).toThrow(UnsafeIdentifierError);
    expect(quoteIdentifier('tenant_ok')).toBe('"tenant_ok"');
  });
});

describe('schema step SQL', () => {
  it('a hostile tenant ID (x"; DROP SCHEMA public; --) cannot inject SQL: its schema is created and dropped, public survives', async () => {
    const tenantId = `${HOSTILE} ${randomUUID()}`;
    const schemas = new TenantSchemas(() => pool);
    const hostileOwner = { orgId: 'org-hostile', integrationId: 'integration-hostile' };
    const created = await schemas.create(tenantId, hostileOwner);
    expect(created.created).toBe(true);
    expect(created.schemaName).toMatch(/^tenant_x_drop_schema_public_/);
    expect(await schemaExists(created.schemaName)).toBe(true);
    expect(await schemaExists('public')).toBe(true);

    // The tenant ID is stored verbatim, as a bound parameter.
    const stored = await pool.query(`SELECT tenant_id FROM ${quoteIdentifier(created.schemaName)}.tenant_info`);
    expect(stored.rows).toEqual([{ tenant_id: tenantId }]);

    const dropped = await schemas.drop(tenantId, hostileOwner);
    expect(dropped).toEqual({ schemaName: created.schemaName, outcome: 'dropped' });
    expect(await schemaExists(created.schemaName)).toBe(false);
    expect(await schemaExists('public')).toBe(true);
  });

  it('create and drop are idempotent: repeating them, or racing two creates, succeeds', async () => {
    const tenantId = `tenant_${randomUUID()}`;
    const schemas = new TenantSchemas(() => pool);
    const owner = { orgId: 'org-idem', integrationId: 'integration-idem' };
    const results = await Promise.all([schemas.create(tenantId, owner), schemas.create(tenantId, owner)]);
    expect(results.every((result) => result.schemaName === schemaNameForTenant(tenantId))).toBe(true);
    expect((await schemas.create(tenantId, owner)).created).toBe(false);
    expect(await schemaExists(schemaNameForTenant(tenantId))).toBe(true);
    expect((await schemas.drop(tenantId, owner)).outcome).toBe('dropped');
    expect((await schemas.drop(tenantId, owner)).outcome).toBe('already_gone');
  });
});

describe('schema ownership (issue 9): the tenant_info row decides', () => {
  it('refuses to adopt a schema that exists and belongs to another installation, and never drops it', async () => {
    const tenantId = `tenant_${randomUUID()}`;
    const schemas = new TenantSchemas(() => pool);
    const ours = { orgId: 'org-a', integrationId: 'integration-1' };
    const theirs = { orgId: 'org-b', integrationId: 'integration-1' };
    expect((await schemas.create(tenantId, ours)).created).toBe(true);

    await expect(schemas.create(tenantId, theirs)).rejects.toMatchObject({
      type: 'SchemaOwnedByAnotherInstallation',
      nonRetryable: true,
      message: expect.stringContaining('org-a/integration-1'),
    });
    expect(await schemas.drop(tenantId, theirs)).toMatchObject({ outcome: 'not_ours', ownedBy: ours });
    expect(await schemaExists(schemaNameForTenant(tenantId))).toBe(true);
    expect(await schemas.owner(tenantId)).toEqual(ours);
    expect((await schemas.drop(tenantId, ours)).outcome).toBe('dropped');
  });

  it('a schema with the tenant\'s name but no tenant_info row is nobody\'s to adopt or drop', async () => {
    const tenantId = `tenant_${randomUUID()}`;
    const schemas = new TenantSchemas(() => pool);
    const schemaName = schemaNameForTenant(tenantId);
    await pool.query(`CREATE SCHEMA ${quoteIdentifier(schemaName)}`);
    try {
      const owner = { orgId: 'org-a', integrationId: 'integration-1' };
      await expect(schemas.create(tenantId, owner)).rejects.toMatchObject({ type: 'SchemaOwnedByAnotherInstallation' });
      expect(await schemas.drop(tenantId, owner)).toEqual({ schemaName, outcome: 'not_ours' });
      expect(await schemaExists(schemaName)).toBe(true);
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schemaName)} CASCADE`);
    }
  });
});
