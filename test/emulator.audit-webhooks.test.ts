/**
 * The emulator's config-audit webhooks over HTTP: subscriptions, signed `configuration.updated` deliveries, retries,
 * paused delivery.
 */
import { createHmac } from 'node:crypto';
import { type CapturedRequest, waitFor, type WebhookReceiver, startWebhookReceiver } from '../emulator/testing';
import { useEmulator } from './fixtures';

const SECRET = 'audit-secret';

interface DeliveryView {
  id: string;
  kind: string;
  url: string;
  status: string;
  attempts: number;
  responses: Array<number | string>;
  body: Record<string, unknown>;
}

function expectSignedBy(secret: string, request: CapturedRequest): void {
  const expected = createHmac('sha256', secret).update(request.rawBody).digest('hex');
  expect(request.headers['x-genesys-signature']).toBe(expected);
}

describe('Genesys Cloud emulator: config-audit webhooks', () => {
  const { client } = useEmulator();
  let receiver: WebhookReceiver;

  const deliveries = async () => (await client.admin<{ deliveries: DeliveryView[] }>('GET', '/state')).body.deliveries;
  const subscribe = (body: Record<string, unknown> = {}) =>
    client.api<Record<string, unknown>>('POST', '/api/v2/webhooks/webhooks', {
      name: 'Prod-Config-Change-Auditor',
      description: 'Audits all production configuration changes',
      enabled: true,
      eventFilters: ['configuration.updated'],
      httpTarget: { uri: receiver.url },
      authScheme: 'basic',
      authUsername: 'webhook_user',
      authPassword: 'webhook_secret',
      event: { type: 'configuration' },
      secret: SECRET,
      ...body,
    });

  beforeEach(async () => {
    await client.admin('POST', '/reset');
    await client.admin('POST', '/settings', { auditRetry: { initialDelayMs: 20 } });
    await client.admin('PUT', '/objects/ivr/main-menu', { version: 9, greeting: 'Welcome' });
    receiver = await startWebhookReceiver();
  });
  afterEach(() => receiver.close());

  it("creates a subscription from the seed's body and never shows its secrets again", async () => {
    const created = await subscribe();
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ id: expect.any(String), name: 'Prod-Config-Change-Auditor', authPassword: '********', secret: '********' });
    const listed = await client.api<{ entities: Array<Record<string, unknown>> }>('GET', '/api/v2/webhooks/webhooks');
    expect(listed.body.entities).toEqual([created.body]);
  });

  it('delivers configuration.updated signed with HMAC-SHA256 over the raw body, a unix timestamp and Basic auth', async () => {
    await subscribe();
    await client.api('PUT', '/api/v2/configuration/ivr/main-menu', { version: 10, greeting: 'Hello' });
    const [request] = await waitFor(() => receiver.received.length === 1 && receiver.received, { what: 'the audit delivery' });

    expectSignedBy(SECRET, request);
    const timestamp = Number(request.headers['x-genesys-event-timestamp']);
    expect(String(timestamp)).toMatch(/^\d{10}$/);
    expect(Math.abs(Date.now() / 1000 - timestamp)).toBeLessThan(300);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('webhook_user:webhook_secret').toString('base64')}`);
    expect(request.body).toEqual({
      eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      eventType: 'configuration.updated',
      timestamp: expect.any(String),
      object: { type: 'ivr', id: 'main-menu', version: 10, lastModifiedTime: expect.any(String) },
      modifiedBy: { kind: 'client', id: 'tollgate-sandbox' },
    });
  });

  it('signs with the configured audit secret when the subscription has none of its own', async () => {
    await client.admin('POST', '/settings', { auditWebhookSecret: 'fallback-secret' });
    await subscribe({ secret: undefined });
    await client.api('PUT', '/api/v2/configuration/ivr/main-menu', { version: 10 });
    const [request] = await waitFor(() => receiver.received.length === 1 && receiver.received);
    expectSignedBy('fallback-secret', request);
  });

  it('retries a delivery the receiver answered 500 twice, resending the same signed bytes each time', async () => {
    await subscribe();
    receiver.answerNext({ status: 500 }, { status: 500 });
    await client.api('PUT', '/api/v2/configuration/ivr/main-menu', { version: 10 });

    const [delivery] = await waitFor(async () => {
      const all = await deliveries();
      return all[0]?.status === 'delivered' && all;
    }, { what: 'the third attempt to succeed' });
    expect(delivery).toMatchObject({ kind: 'config-audit', url: receiver.url, attempts: 3, responses: [500, 500, 200] });
    expect(receiver.received).toHaveLength(3);
    for (const request of receiver.received) expectSignedBy(SECRET, request);
    expect(new Set(receiver.received.map((request) => request.rawBody.toString()))).toHaveProperty('size', 1);
  });

  it('gives up after the configured number of retries and marks the delivery failed', async () => {
    await client.admin('POST', '/settings', { auditRetry: { maxRetries: 1 } });
    await subscribe();
    receiver.answerNext({ status: 503 }, { status: 500 }, { status: 500 });
    await client.api('PUT', '/api/v2/configuration/ivr/main-menu', { version: 10 });
    const [delivery] = await waitFor(async () => {
      const all = await deliveries();
      return all[0]?.status === 'failed' && all;
    });
    expect(delivery.responses).toEqual([503, 500]);
  });

  it('holds deliveries while paused and sends them on resume (change-gate Edge Case 3: webhook delivery failure)', async () => {
    await subscribe();
    await client.admin('POST', '/webhooks/pause');
    await client.api('PUT', '/api/v2/configuration/ivr/main-menu', { version: 10 });
    await client.api('PUT', '/api/v2/configuration/ivr/main-menu', { version: 11 });

    const held = await deliveries();
    expect(held.map((delivery) => delivery.status)).toEqual(['paused', 'paused']);
    expect((await client.admin<{ paused: boolean }>('GET', '/state')).body.paused).toBe(true);
    expect(receiver.received).toHaveLength(0);

    await client.admin('POST', '/webhooks/resume');
    await waitFor(async () => (await deliveries()).every((delivery) => delivery.status === 'delivered'), { what: 'the held deliveries' });
    expect(receiver.received.map((request) => (request.body as { object: { version: number } }).object.version).sort()).toEqual([10, 11]);
  });

  it('reports a human edit in the Genesys UI with modifiedBy user (change-gate trap "Admin Override")', async () => {
    await subscribe();
    const edited = await client.admin<Record<string, unknown>>('POST', '/objects/ivr/main-menu/ui-edit', { user: 'jane@acme.com', fields: { timeoutSeconds: 8 } });
    expect(edited.body).toMatchObject({ version: 10, greeting: 'Welcome', timeoutSeconds: 8, modifiedBy: { kind: 'user', id: 'jane@acme.com' } });

    const [request] = await waitFor(() => receiver.received.length === 1 && receiver.received);
    expect(request.body).toMatchObject({ object: { type: 'ivr', id: 'main-menu', version: 10 }, modifiedBy: { kind: 'user', id: 'jane@acme.com' } });
  });

  it('sends nothing to disabled subscriptions, to subscriptions filtering other events, or for admin seeding', async () => {
    await subscribe({ enabled: false });
    await subscribe({ eventFilters: ['routing.queue.updated'] });
    await client.api('PUT', '/api/v2/configuration/ivr/main-menu', { version: 10 });
    await client.admin('PUT', '/objects/ivr/other', { greeting: 'seeded' });
    expect(await deliveries()).toEqual([]);
  });

  it('refuses a subscription without a target or with Basic auth but no password', async () => {
    expect((await subscribe({ httpTarget: {} })).status).toBe(400);
    expect((await subscribe({ authPassword: undefined })).status).toBe(400);
  });
});
