/**
 * The emulator's integration lifecycle webhooks over HTTP: signed delivery, retry policy, retry metadata,
 * duplicates, out-of-order.
 */
import { createHmac } from 'node:crypto';
import { type CapturedRequest, waitFor, type WebhookReceiver, startWebhookReceiver } from '../emulator/testing';
import { useEmulator } from './fixtures';

const SECRET = 'your_hmac_signing_secret';
const INTEGRATION = 'a1b2c3d4-e5f6-7890-abcd-ef1234567890';
const ORG = '98765432-1234-5678-9abc-def012345678';

interface LifecycleBody {
  eventId?: string;
  event: string;
  integrationId: string;
  orgId: string;
  tenantId: string;
  configuration: Record<string, unknown>;
  eventTimestamp: string;
  metadata: { installedBy: string; source: string; sequence: number };
  retryCount?: number;
  deliveryAttempt?: number;
}

interface Emission {
  sequence: number;
  deliveryIds: string[];
  skipped?: string;
}

interface DeliveryView {
  id: string;
  status: string;
  responses: Array<number | string>;
}

const bodyOf = (request: CapturedRequest) => request.body as LifecycleBody;

function expectSignedBy(secret: string, request: CapturedRequest): void {
  expect(request.headers['x-genesys-signature']).toBe(createHmac('sha256', secret).update(request.rawBody).digest('hex'));
}

describe('Genesys Cloud emulator: integration lifecycle webhooks', () => {
  const { client } = useEmulator();
  let receiver: WebhookReceiver;

  const configureWebhook = (overrides: Record<string, unknown> = {}) =>
    client.api<Record<string, unknown>>('PUT', `/api/v2/integrations/${INTEGRATION}/webhooks`, {
      url: receiver.url,
      events: ['installed', 'uninstalled', 'enabled', 'disabled', 'configuration_updated'],
      retryPolicy: { maxRetries: 5, initialDelayMs: 20, backoffMultiplier: 2 },
      timeoutMs: 3000,
      secret: SECRET,
      ...overrides,
    });
  const emit = (body: Record<string, unknown>, org = ORG) =>
    client.admin<Emission>('POST', `/integrations/${INTEGRATION}/orgs/${org}/events`, body);
  const deliveries = async () => (await client.admin<{ deliveries: DeliveryView[] }>('GET', '/state')).body.deliveries;
  const received = (count: number) =>
    waitFor(() => receiver.received.length >= count && receiver.received, { what: `${count} lifecycle deliveries` });

  beforeEach(async () => {
    await client.admin('POST', '/reset');
    receiver = await startWebhookReceiver();
  });
  afterEach(() => receiver.close());

  it("stores the seed's webhook definition and shows it with the secret masked", async () => {
    const stored = await configureWebhook();
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ url: receiver.url, timeoutMs: 3000, secret: '********' });
    const read = await client.api('GET', `/api/v2/integrations/${INTEGRATION}/webhooks`);
    expect(read.body).toEqual(stored.body);
    expect((await client.api('GET', '/api/v2/integrations/unknown/webhooks')).status).toBe(404);
  });

  it('delivers a signed installed event with an ISO timestamp header and a per-installation sequence', async () => {
    await configureWebhook();
    const configuration = { crmEndpoint: 'https://acme.salesforce.com', syncInterval: 'PT5M' };
    const emitted = await emit({ event: 'installed', tenantId: 'tenant_acme_corp', configuration });
    expect(emitted.status).toBe(202);
    expect(emitted.body).toEqual({ sequence: 1, deliveryIds: [expect.any(String)] });

    const [request] = await received(1);
    expectSignedBy(SECRET, request);
    const timestamp = String(request.headers['x-genesys-event-timestamp']);
    expect(timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Math.abs(Date.now() - Date.parse(timestamp))).toBeLessThan(90_000);
    expect(bodyOf(request)).toEqual({
      event: 'installed',
      integrationId: INTEGRATION,
      orgId: ORG,
      tenantId: 'tenant_acme_corp',
      configuration,
      eventTimestamp: expect.any(String),
      metadata: { installedBy: expect.any(String), source: 'marketplace', sequence: 1 },
    });
  });

  it('adds an eventId only when asked to', async () => {
    await configureWebhook();
    await emit({ event: 'installed', withEventId: true });
    const [request] = await received(1);
    expect(bodyOf(request).eventId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('injects retry metadata after a 502 and drifts eventTimestamp, keeping the sequence (lifecycle Edge Case 3)', async () => {
    await configureWebhook();
    receiver.answerNext({ status: 502 });
    await emit({ event: 'installed', withEventId: true });

    const [first, second] = await received(2);
    expectSignedBy(SECRET, first);
    expectSignedBy(SECRET, second);
    expect(bodyOf(first)).not.toHaveProperty('retryCount');
    expect(bodyOf(second)).toMatchObject({ retryCount: 1, deliveryAttempt: 2 });
    expect(Date.parse(bodyOf(second).eventTimestamp) - Date.parse(bodyOf(first).eventTimestamp)).toBe(7);
    expect(bodyOf(second).metadata.sequence).toBe(bodyOf(first).metadata.sequence);
    expect(bodyOf(second).eventId).toBe(bodyOf(first).eventId);

    const [delivery] = await waitFor(async () => {
      const all = await deliveries();
      return all[0]?.status === 'delivered' && all;
    });
    expect(delivery.responses).toEqual([502, 200]);
  });

  it('sends duplicates: 2 as three identical deliveries', async () => {
    await configureWebhook();
    const emitted = await emit({ event: 'installed', duplicates: 2 });
    expect(emitted.body.deliveryIds).toHaveLength(3);
    const requests = await received(3);
    expect(new Set(requests.map((request) => request.rawBody.toString()))).toHaveProperty('size', 1);
    for (const request of requests) expectSignedBy(SECRET, request);
  });

  it('delivers a delayed event after a later one (lifecycle trap: events are not strictly ordered)', async () => {
    await configureWebhook();
    await emit({ event: 'installed', delayMs: 300 });
    await emit({ event: 'uninstalled' });
    const requests = await received(2);
    expect(requests.map((request) => bodyOf(request).event)).toEqual(['uninstalled', 'installed']);
    expect(requests.map((request) => bodyOf(request).metadata.sequence)).toEqual([2, 1]);
  });

  it('retries when the receiver answers slower than timeoutMs (lifecycle trap: blocking beyond the timeout)', async () => {
    await configureWebhook({ timeoutMs: 100 });
    receiver.answerNext({ status: 200, delayMs: 1_000 });
    await emit({ event: 'installed' });
    const [, retry] = await received(2);
    expect(bodyOf(retry)).toMatchObject({ retryCount: 1, deliveryAttempt: 2 });
    const [delivery] = await waitFor(async () => {
      const all = await deliveries();
      return all[0]?.status === 'delivered' && all;
    });
    expect(delivery.responses).toEqual(['timeout', 200]);
  });

  it('records a receiver that cannot be reached as an error and retries it', async () => {
    await configureWebhook({ url: 'http://127.0.0.1:9/unreachable', retryPolicy: { maxRetries: 1, initialDelayMs: 10, backoffMultiplier: 1 } });
    await emit({ event: 'installed' });
    const [delivery] = await waitFor(async () => {
      const all = await deliveries();
      return all[0]?.status === 'failed' && all;
    });
    expect(delivery.responses).toEqual(['error', 'error']);
  });

  it('lists installations as they are installed, disabled, reconfigured and uninstalled', async () => {
    await configureWebhook();
    const list = async () =>
      (await client.api<{ entities: Array<Record<string, unknown>> }>('GET', `/api/v2/integrations/${INTEGRATION}/installations`)).body.entities;

    await emit({ event: 'installed', tenantId: 'tenant_acme', configuration: { syncInterval: 'PT5M' } });
    await emit({ event: 'installed', tenantId: 'tenant_globex' }, 'org-globex');
    expect(await list()).toEqual([
      { orgId: ORG, integrationId: INTEGRATION, tenantId: 'tenant_acme', status: 'installed', configuration: { syncInterval: 'PT5M' }, installedAt: expect.any(String) },
      expect.objectContaining({ orgId: 'org-globex', tenantId: 'tenant_globex' }),
    ]);

    await emit({ event: 'disabled' });
    await emit({ event: 'configuration_updated', configuration: { syncInterval: 'PT1M' } });
    const filtered = await client.api<{ entities: Array<Record<string, unknown>> }>(
      'GET',
      `/api/v2/integrations/${INTEGRATION}/installations?orgId=${ORG}`,
    );
    expect(filtered.body.entities).toEqual([expect.objectContaining({ status: 'disabled', configuration: { syncInterval: 'PT1M' } })]);

    const uninstall = await emit({ event: 'uninstalled' });
    expect(uninstall.body.sequence).toBe(4);
    expect(await list()).toEqual([expect.objectContaining({ orgId: 'org-globex' })]);
  });

  it("revokes an installed org's tokens once, then answers 404", async () => {
    await configureWebhook();
    await emit({ event: 'installed' });
    const path = `/api/v2/integrations/${INTEGRATION}/orgs/${ORG}/tokens`;
    expect((await client.api('DELETE', path)).status).toBe(204);
    expect((await client.api('DELETE', path)).status).toBe(404);
    expect((await client.api('DELETE', `/api/v2/integrations/${INTEGRATION}/orgs/never-installed/tokens`)).status).toBe(404);
    const state = await client.admin<{ tokens: Array<Record<string, unknown>> }>('GET', '/state');
    expect(state.body.tokens).toContainEqual(expect.objectContaining({ kind: 'integration', orgId: ORG, revoked: true }));
  });

  it('updates the installation but sends nothing for events the webhook does not subscribe to', async () => {
    await configureWebhook({ events: ['uninstalled'] });
    const emitted = await emit({ event: 'installed' });
    expect(emitted.body).toEqual({ sequence: 1, deliveryIds: [], skipped: expect.any(String) });
    expect(await deliveries()).toEqual([]);
    const listed = await client.api<{ entities: unknown[] }>('GET', `/api/v2/integrations/${INTEGRATION}/installations`);
    expect(listed.body.entities).toHaveLength(1);
  });

  it('refuses an unknown lifecycle event', async () => {
    expect((await emit({ event: 'exploded' })).status).toBe(400);
  });
});
