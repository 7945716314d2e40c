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
const crmOwner = { tenantId: 'tenant_c', orgId: 'org-c', integrationId: 'integration-p' };

describe('middleware tenants', () => {
  const tenants = () => new MiddlewareTenants(partner);

  it('a repeated create (a retried step whose first answer was lost) accepts the tenant it made', async () => {
    expect(await tenants().create(owner, { a: 1 })).toBe('created');
    expect(await tenants().create(owner, { a: 1 })).toBe('existed');
  });

  it('refuses to adopt, change, stop or delete a tenant that belongs to another installation, and names its owner', async () => {
    const intruder = { ...owner, orgId: 'org-other' };
    await expect(tenants().create(intruder, {})).rejects.toMatchObject({
      type: 'TenantOwnedByAnotherInstallation',
      nonRetryable: true,
      message: expect.stringContaining(`${owner.orgId}/${owner.integrationId}`),
    });
    const ownedBy = { orgId: owner.orgId, integrationId: owner.integrationId };
    expect(await tenants().delete(intruder)).toEqual({ outcome: 'not_ours', ownedBy });
    expect(await tenants().disableStreams(intruder)).toEqual({ outcome: 'not_ours', ownedBy });
    await expect(tenants().update(intruder, { enabled: false })).rejects.toMatchObject({ type: 'TenantOwnedByAnotherInstallation', nonRetryable: true });
    expect(await tenants().get(owner.tenantId)).toMatchObject({ orgId: owner.orgId, enabled: true, streamsEnabled: true });
  });

  it('treats an absent tenant as already gone on delete and on stream shutdown, and as an error on update', async () => {
    expect(await tenants().disableStreams(owner)).toEqual({ outcome: 'disabled' });
    expect(await tenants().delete(owner)).toEqual({ outcome: 'deleted' });
    expect(await tenants().delete(owner)).toEqual({ outcome: 'already_gone' });
    expect(await tenants().disableStreams(owner)).toEqual({ outcome: 'already_gone' });
    await expect(tenants().update(owner, { enabled: false })).rejects.toMatchObject({ type: 'TenantMissing', nonRetryable: true });
  });
});

describe('CRM connections', () => {
  it('a rejected client secret is a non-retryable CrmSecretRejected (Edge Case 2), a missing one CrmSecretMissing', async () => {
    await expect(new CrmConnections(`${partner}/crm`, 'wrong').configure(crmOwner, 'https://crm')).rejects.toMatchObject({
      type: 'CrmSecretRejected',
      nonRetryable: true,
    });
    await expect(new CrmConnections(`${partner}/crm`, undefined).configure(crmOwner, 'https://crm')).rejects.toMatchObject({
      type: 'CrmSecretMissing',
    });
  });

  it('configures idempotently, re-points its own connection, and deletes with "already gone" as success', async () => {
    const crm = new CrmConnections(`${partner}/crm`, CRM_SECRET);
    await crm.configure(crmOwner, 'https://crm');
    await crm.configure(crmOwner, 'https://crm');
    await crm.configure(crmOwner, 'https://crm-2');
    expect(await crm.get(crmOwner.tenantId)).toMatchObject({ crmEndpoint: 'https://crm-2', orgId: crmOwner.orgId, integrationId: crmOwner.integrationId });
    expect(await crm.delete(crmOwner)).toEqual({ outcome: 'deleted' });
    expect(await crm.delete(crmOwner)).toEqual({ outcome: 'already_gone' });
  });

  it('never re-points or deletes another installation\'s connection, and names its owner', async () => {
    const crm = new CrmConnections(`${partner}/crm`, CRM_SECRET);
    const victim = { tenantId: 'tenant_v', orgId: 'org-victim', integrationId: 'integration-p' };
    await crm.configure(victim, 'https://victim.crm');
    const intruder = { ...victim, orgId: 'org-intruder' };
    await expect(crm.configure(intruder, 'https://evil.crm')).rejects.toMatchObject({ type: 'CrmConnectionOwnedByAnotherInstallation', nonRetryable: true });
    expect(await crm.delete(intruder)).toEqual({ outcome: 'not_ours', ownedBy: { orgId: 'org-victim', integrationId: 'integration-p' } });
    expect(await crm.get(victim.tenantId)).toMatchObject({ crmEndpoint: 'https://victim.crm', orgId: 'org-victim' });
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
