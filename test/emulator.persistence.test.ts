/**
 * The emulator keeps its state in a file across restarts (`EMULATOR_STATE_FILE`; `tollgate dev` uses
 * `.tollgate/emulator-state.json`), so a restarted sandbox is consistent with the Temporal and PostgreSQL it kept.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../emulator/server';
import { emulatorClient } from '../emulator/testing';

describe('Genesys Cloud emulator: state across restarts', () => {
  it('keeps installations, tokens, tenants, CRM connections, archives, objects, sequences and Jira issues; not the wiring', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'tollgate-emulator-')), 'emulator-state.json');
    const first = await startEmulator({ port: 0, stateFile });
    const client = emulatorClient(first.url);
    await client.admin('PUT', '/objects/ivr/main-menu', { greeting: 'hello', version: 3 });
    await client.api('PUT', '/api/v2/integrations/int-1/webhooks', { url: 'http://127.0.0.1:1/hook', events: ['installed'], secret: 's3cret' });
    await client.admin('POST', '/integrations/int-1/orgs/org-acme/events', { event: 'installed', tenantId: 'tenant_acme', configuration: { crmEndpoint: 'https://acme.example' } });
    await client.call('POST', '/partner/tenants', { tenantId: 'tenant_acme', orgId: 'org-acme', integrationId: 'int-1' });
    await client.call('PUT', '/partner/crm/connections/tenant_acme', { crmEndpoint: 'https://acme.example', clientSecret: 'crm-sandbox-secret', orgId: 'org-acme', integrationId: 'int-1' });
    await client.call('POST', '/partner/archives', { orgId: 'org-old', integrationId: 'int-1', tenantId: 'tenant_old' });
    // A change ticket in the emulator's Jira (the delivery cursor in PostgreSQL has gone past it).
    const jira = { authorization: `Basic ${Buffer.from('bot@example.com:jira-token').toString('base64')}`, 'content-type': 'application/json' };
    await first.close();
    const withJira = await startEmulator({ port: 0, stateFile, settings: { jiraUsers: { 'bot@example.com': 'jira-token' } } });
    const created = await fetch(`${withJira.url}/jira/rest/api/3/issue`, {
      method: 'POST',
      headers: jira,
      body: JSON.stringify({ fields: { project: { key: 'CHG' }, issuetype: { name: 'Change' }, summary: 'Change ivr/main-menu', labels: ['tollgate-change-c1'] } }),
    });
    expect(created.status).toBe(201);
    await withJira.close();
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(stateFile, 'utf8')).not.toContain('s3cret');

    const second = await startEmulator({ port: 0, stateFile });
    try {
      const again = emulatorClient(second.url);
      const state = (await again.admin<Record<string, any>>('GET', '/state')).body;
      expect(state.installations).toEqual([expect.objectContaining({ orgId: 'org-acme', integrationId: 'int-1', tenantId: 'tenant_acme', status: 'installed' })]);
      expect(state.tenants).toEqual([expect.objectContaining({ tenantId: 'tenant_acme', orgId: 'org-acme', createCount: 1 })]);
      expect(state.crmConnections).toEqual([expect.objectContaining({ tenantId: 'tenant_acme', orgId: 'org-acme' })]);
      expect(state.archives).toHaveLength(1);
      expect(state.objects).toEqual([expect.objectContaining({ type: 'ivr', id: 'main-menu', version: 3, greeting: 'hello' })]);
      expect(state.eventSequences).toEqual({ 'org-acme:int-1': 1 });
      expect(state.tokens.filter((token: { kind: string }) => token.kind === 'integration')).toHaveLength(1);
      const issues = (await again.admin<{ issues: Array<{ key: string; labels: string[] }> }>('GET', '/jira/issues')).body.issues;
      expect(issues).toEqual([expect.objectContaining({ key: 'CHG-1', labels: ['tollgate-change-c1'] })]);
      // The wiring is re-established by whoever starts the sandbox.
      expect(state.integrations).toEqual([]);
      expect(state.subscriptions).toEqual([]);
      // The Genesys-side listing reconciliation reads is the same as before the restart.
      const listed = await again.api<{ entities: unknown[] }>('GET', '/api/v2/integrations/int-1/installations');
      expect(listed.body.entities).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('refuses to start from a state file it cannot read, rather than start empty', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'tollgate-emulator-')), 'emulator-state.json');
    writeFileSync(stateFile, '{"formatVersion": 1, "objects": ');
    await expect(startEmulator({ port: 0, stateFile })).rejects.toThrow(/cannot be read/);
  });
});
