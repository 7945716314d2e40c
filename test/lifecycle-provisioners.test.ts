/**
 * The provisioners' clients against the emulator's partner systems over HTTP: every step idempotent, "already
 * gone" is success, a refused CRM secret is non-retryable, and nobody else's tenant is ever deleted.
 */
import { ApplicationFailure } from '@temporalio/common';
import { startEmulator, type RunningEmulator } from '../emulator/server';
import { AuditArchive } from '../activities/provisioning/audit-archive';
import { CrmConnections } from '../activities/provisioning/crm-connection';
import { MiddlewareTenants } from '../activities/provisioning/middleware-tenant';
import { partnerRequest, PartnerUnavailableError } from '../activities/provisioning/partner-http';

const CRM_SECRET = 'crm-secret-for-this-test';
let emulator: RunningEmulator;
let partner: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, settings: { crmSecret: CRM_SECRET } });
  partner = `${emulator.url}/partner`;
});

afterAll(async () => {
  await emulator?.close();
});

afterEach(async () => {
  await fetch(`${emulator.url}/__emulator/faults`, { method: 'DELETE' });
});

async function fault(spec: Record<string, unknown>): Promise<void> {
  await fetch(`${emulator.url}/__emulator/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
}

const owner = { tenantId: 'tenant_p1', orgId: 'org-p1', integrationId: 'integration-p' };

describe('middleware tenants', () => {
  const tenants = () => new MiddlewareTenants(partner);

  it('a repeated create (a retried step whose first answer was lost) accepts the tenant it made', async () => {
    expect(await tenants().create(owner, { a: 1 })).toBe('created');
    expect(await tenants().create(owner, { a: 1 })).toBe('existed');
  });

  it('refuses to adopt, and never deletes, a tenant that belongs to another installation', async () => {
    const intruder = { ...owner, orgId: 'org-other' };
    await expect(tenants().create(intruder, {})).rejects.toMatchObject({ type: 'TenantOwnedByAnotherInstallation', nonRetryable: true });
    expect(await tenants().delete(intruder)).toBe('not_ours');
    expect(await tenants().get(owner.tenantId)).toMatchObject({ orgId: owner.orgId });
  });

  it('treats an absent tenant as already gone on delete and on stream shutdown, and as an error on update', async () => {
    expect(await tenants().disableStreams(owner.tenantId)).toBe('disabled');
    expect(await tenants().delete(owner)).toBe('deleted');
    expect(await tenants().delete(owner)).toBe('already_gone');
    expect(await tenants().disableStreams(owner.tenantId)).toBe('already_gone');
    await expect(tenants().update(owner.tenantId, { enabled: false })).rejects.toMatchObject({ type: 'TenantMissing', nonRetryable: true });
  });
});

describe('CRM connections', () => {
  it('a rejected client secret is a non-retryable CrmSecretRejected (Edge Case 2), a missing one CrmSecretMissing', async () => {
    await expect(new CrmConnections(`${partner}/crm`, 'wrong').configure('tenant_c', 'https://crm')).rejects.toMatchObject({
      type: 'CrmSecretRejected',
      nonRetryable: true,
    });
    await expect(new CrmConnections(`${partner}/crm`, undefined).configure('tenant_c', 'https://crm')).rejects.toMatchObject({
      type: 'CrmSecretMissing',
    });
  });

  it('configures idempotently and deletes with "already gone" as success', async () => {
    const crm = new CrmConnections(`${partner}/crm`, CRM_SECRET);
    await crm.configure('tenant_c', 'https://crm');
    await crm.configure('tenant_c', 'https://crm');
    expect(await crm.delete('tenant_c')).toBe('deleted');
    expect(await crm.delete('tenant_c')).toBe('already_gone');
  });
});

describe('audit archive and partner HTTP', () => {
  it('archives once per org + integration + tenant', async () => {
    const archive = new AuditArchive(partner);
    expect(await archive.archive(owner)).toBe('archived');
    expect(await archive.archive(owner)).toBe('already_archived');
  });

  it('5xx and dropped connections are retryable, 429 carries Retry-After, other 4xx are not retryable', async () => {
    await fault({ pathPrefix: '/partner/archives', status: 503, count: 1 });
    await expect(partnerRequest('POST', `${partner}/archives`, owner)).rejects.toBeInstanceOf(PartnerUnavailableError);
    await fault({ pathPrefix: '/partner/archives', drop: true, count: 1 });
    await expect(partnerRequest('POST', `${partner}/archives`, owner)).rejects.toBeInstanceOf(PartnerUnavailableError);
    await fault({ pathPrefix: '/partner/archives', status: 429, retryAfterSeconds: 7, count: 1 });
    const limited = await partnerRequest('POST', `${partner}/archives`, owner).catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(ApplicationFailure);
    expect(limited).toMatchObject({ nonRetryable: false, nextRetryDelay: 7000 });
    await fault({ pathPrefix: '/partner/archives', status: 422, count: 1 });
    await expect(partnerRequest('POST', `${partner}/archives`, owner)).rejects.toMatchObject({ type: 'PartnerRequestRejected', nonRetryable: true });
  });
});
