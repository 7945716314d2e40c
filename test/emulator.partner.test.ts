/**
 * The partner-side systems the emulator plays in sandbox mode: middleware tenants, CRM connections, the audit
 * archive.
 */
import { useEmulator } from './fixtures';

describe('Genesys Cloud emulator: partner-side systems', () => {
  const { client } = useEmulator();
  const tenant = { tenantId: 'tenant_acme_corp', orgId: 'org-acme', integrationId: 'int-1', configuration: { syncInterval: 'PT5M' } };
  const crmOwner = { orgId: tenant.orgId, integrationId: tenant.integrationId };

  beforeEach(() => client.admin('POST', '/reset'));

  it('creates a middleware tenant once: 201, then 409, counted so tests can prove "no duplicate tenant"', async () => {
    const created = await client.call('POST', '/partner/tenants', tenant);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...tenant, enabled: true, streamsEnabled: true, createCount: 1 });

    const duplicate = await client.call('POST', '/partner/tenants', tenant);
    expect(duplicate.status).toBe(409);

    const read = await client.call('GET', `/partner/tenants/${tenant.tenantId}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ createCount: 1, createAttempts: 2 });
    expect((await client.call('GET', '/partner/tenants/nobody')).status).toBe(404);
  });

  it('enables, reconfigures, stops streams of and deletes a tenant; a second delete is a 404', async () => {
    await client.call('POST', '/partner/tenants', tenant);
    const patched = await client.call('PATCH', `/partner/tenants/${tenant.tenantId}`, { enabled: false, configuration: { syncInterval: 'PT1M' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ enabled: false, configuration: { syncInterval: 'PT1M' } });

    expect((await client.call('POST', `/partner/tenants/${tenant.tenantId}/streams/disable`)).status).toBe(204);
    expect((await client.call('GET', `/partner/tenants/${tenant.tenantId}`)).body).toMatchObject({ streamsEnabled: false });

    expect((await client.call('DELETE', `/partner/tenants/${tenant.tenantId}`)).status).toBe(204);
    expect((await client.call('DELETE', `/partner/tenants/${tenant.tenantId}`)).status).toBe(404);
    expect((await client.call('PATCH', `/partner/tenants/${tenant.tenantId}`, { enabled: true })).status).toBe(404);
    expect((await client.call('POST', `/partner/tenants/${tenant.tenantId}/streams/disable`)).status).toBe(404);

    // A real re-install later creates it again, and the count shows it.
    expect((await client.call('POST', '/partner/tenants', tenant)).body).toMatchObject({ createCount: 2 });
    const state = await client.admin<{ tenantCreateCounts: Record<string, unknown> }>('GET', '/state');
    expect(state.body.tenantCreateCounts).toEqual({ [tenant.tenantId]: { createCount: 2, createAttempts: 2 } });
  });

  it('refuses a CRM connection with a bad client secret with 401 (lifecycle Edge Case 2)', async () => {
    const refused = await client.call('PUT', `/partner/crm/connections/${tenant.tenantId}`, { crmEndpoint: 'https://acme.salesforce.com', clientSecret: 'wrong', ...crmOwner });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'invalid_client_secret' });

    const connected = await client.call('PUT', `/partner/crm/connections/${tenant.tenantId}`, {
      crmEndpoint: 'https://acme.salesforce.com',
      clientSecret: 'crm-sandbox-secret',
      ...crmOwner,
    });
    expect(connected.body).toMatchObject(crmOwner);
    expect(connected.status).toBe(200);
    expect(connected.body).not.toHaveProperty('clientSecret');
    expect((await client.call('DELETE', `/partner/crm/connections/${tenant.tenantId}`)).status).toBe(204);
    expect((await client.call('DELETE', `/partner/crm/connections/${tenant.tenantId}`)).status).toBe(404);
  });

  it('accepts the CRM secret set through /__emulator/settings', async () => {
    await client.admin('POST', '/settings', { crmSecret: 'rotated' });
    const connect = (clientSecret: string) =>
      client.call('PUT', `/partner/crm/connections/${tenant.tenantId}`, { crmEndpoint: 'https://acme.salesforce.com', clientSecret, ...crmOwner });
    expect((await connect('crm-sandbox-secret')).status).toBe(401);
    expect((await connect('rotated')).status).toBe(200);
  });

  it('records each tenant\'s and CRM connection\'s owner and refuses, with 409 owner.mismatch, a change by anyone else', async () => {
    await client.call('POST', '/partner/tenants', tenant);
    const stranger = 'orgId=org-evil&integrationId=int-1';
    const own = `orgId=${tenant.orgId}&integrationId=${tenant.integrationId}`;
    for (const [method, path, body] of [
      ['PATCH', `/partner/tenants/${tenant.tenantId}?${stranger}`, { enabled: false }],
      ['POST', `/partner/tenants/${tenant.tenantId}/streams/disable?${stranger}`, undefined],
      ['DELETE', `/partner/tenants/${tenant.tenantId}?${stranger}`, undefined],
    ] as const) {
      const refused = await client.call(method, path, body);
      expect([method, path, refused.status]).toEqual([method, path, 409]);
      expect(refused.body).toMatchObject({ code: 'owner.mismatch', owner: crmOwner });
    }
    expect((await client.call('GET', `/partner/tenants/${tenant.tenantId}`)).body).toMatchObject({ enabled: true, streamsEnabled: true });
    expect((await client.call('PATCH', `/partner/tenants/${tenant.tenantId}?${own}`, { enabled: false })).status).toBe(200);

    const connect = (owner: Record<string, string>) =>
      client.call('PUT', `/partner/crm/connections/${tenant.tenantId}`, { crmEndpoint: 'https://acme.salesforce.com', clientSecret: 'crm-sandbox-secret', ...owner });
    expect((await connect(crmOwner)).status).toBe(200);
    expect((await connect({ orgId: 'org-evil', integrationId: 'int-1' })).body).toMatchObject({ code: 'owner.mismatch', owner: crmOwner });
    expect((await client.call('DELETE', `/partner/crm/connections/${tenant.tenantId}?${stranger}`)).status).toBe(409);
    expect((await client.call('GET', `/partner/crm/connections/${tenant.tenantId}`)).body).toMatchObject({ ...crmOwner, crmEndpoint: 'https://acme.salesforce.com' });
    expect((await client.call('DELETE', `/partner/crm/connections/${tenant.tenantId}?${own}`)).status).toBe(204);
    expect((await client.call('DELETE', `/partner/tenants/${tenant.tenantId}?${own}`)).status).toBe(204);
  });

  it('archives audit records idempotently per org, integration and tenant', async () => {
    const archive = { orgId: 'org-acme', integrationId: 'int-1', tenantId: tenant.tenantId };
    const first = await client.call<{ id: string }>('POST', '/partner/archives', archive);
    const second = await client.call<{ id: string }>('POST', '/partner/archives', archive);
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body.id).toBe(first.body.id);
    const state = await client.admin<{ archives: unknown[] }>('GET', '/state');
    expect(state.body.archives).toHaveLength(1);
  });

  it('records Slack-compatible alerts', async () => {
    const posted = await client.call('POST', '/partner/alerts', { text: 'provisioning_rolled_back for org-acme', channel: '#ops' });
    expect(posted.status).toBe(200);
    const state = await client.admin<{ alerts: Array<{ body: Record<string, unknown> }> }>('GET', '/state');
    expect(state.body.alerts).toEqual([{ receivedAt: expect.any(String), body: { text: 'provisioning_rolled_back for org-acme', channel: '#ops' } }]);
    expect((await client.call('POST', '/partner/alerts', { channel: '#ops' })).status).toBe(400);
  });
});
