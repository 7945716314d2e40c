/** The emulator's fault injection (status codes, latency, 429 with Retry-After, dropped connections) and its reset. */
import { startEmulator } from '../emulator';
import { emulatorClient, waitFor, type WebhookReceiver, startWebhookReceiver } from '../emulator/testing';
import { useEmulator } from './fixtures';

describe('Genesys Cloud emulator: fault injection and reset', () => {
  const { emulator, client } = useEmulator();

  const addFault = async (fault: Record<string, unknown>) => {
    const response = await client.admin<{ id: string }>('POST', '/faults', fault);
    expect(response.status).toBe(201);
    return response.body.id;
  };

  beforeEach(async () => {
    await client.admin('POST', '/reset');
    await client.admin('PUT', '/objects/ivr/main-menu', { greeting: 'Welcome' });
  });

  it('answers 429 with Retry-After for as many requests as the fault counts, then lets requests through', async () => {
    await addFault({ pathPrefix: '/api/v2/configuration', status: 429, retryAfterSeconds: 7, count: 2 });
    const statuses: number[] = [];
    for (let index = 0; index < 3; index += 1) {
      const response = await client.api('GET', '/api/v2/configuration/ivr/main-menu');
      statuses.push(response.status);
      if (response.status === 429) {
        expect(response.headers.get('retry-after')).toBe('7');
        expect(response.body).toMatchObject({ status: 429, code: 'too.many.requests' });
      }
    }
    expect(statuses).toEqual([429, 429, 200]);
    const state = await client.admin<{ faults: Array<{ hits: number }> }>('GET', '/state');
    expect(state.body.faults).toEqual([expect.objectContaining({ hits: 2, count: 2 })]);
  });

  it('sends Retry-After on a 429 even when none was given, and on a 503 when one was', async () => {
    await addFault({ pathPrefix: '/api/v2/configuration/ivr', status: 429, count: 1 });
    await addFault({ pathPrefix: '/partner', status: 503, retryAfterSeconds: 3, count: 1 });
    expect((await client.api('GET', '/api/v2/configuration/ivr/main-menu')).headers.get('retry-after')).toBe('1');
    const unavailable = await client.call('GET', '/partner/tenants/t1');
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('3');
  });

  it('matches the method when one is given', async () => {
    await addFault({ method: 'put', pathPrefix: '/api/v2/configuration', status: 500 });
    expect((await client.api('GET', '/api/v2/configuration/ivr/main-menu')).status).toBe(200);
    expect((await client.api('PUT', '/api/v2/configuration/ivr/main-menu', { version: 2 })).status).toBe(500);
  });

  it('fails the token endpoint too, so token refresh can be tested under faults', async () => {
    await addFault({ pathPrefix: '/oauth/token', status: 503, count: 1 });
    await expect(client.token()).rejects.toThrow('503');
    await expect(client.token()).resolves.toEqual(expect.any(String));
  });

  it('adds latency and then answers normally', async () => {
    await addFault({ pathPrefix: '/api/v2/configuration', latencyMs: 300 });
    await client.token();
    const started = Date.now();
    const response = await client.api('GET', '/api/v2/configuration/ivr/main-menu');
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('drops the connection without a response, so the client sees a socket error', async () => {
    await addFault({ pathPrefix: '/partner/tenants', drop: true, count: 1 });
    await expect(fetch(`${emulator.url}/partner/tenants/t1`)).rejects.toThrow();
    expect((await client.call('GET', '/partner/tenants/t1')).status).toBe(404);
  });

  it('never fires a fault with rate 0, and always one with rate 1', async () => {
    await addFault({ pathPrefix: '/partner', status: 500, rate: 0 });
    for (let index = 0; index < 5; index += 1) expect((await client.call('GET', '/partner/tenants/t1')).status).toBe(404);
    await client.admin('DELETE', '/faults');
    await addFault({ pathPrefix: '/partner', status: 500, rate: 1 });
    expect((await client.call('GET', '/partner/tenants/t1')).status).toBe(500);
  });

  it('never applies faults to the admin API, and DELETE /faults clears them all', async () => {
    await addFault({ pathPrefix: '/', status: 500 });
    expect((await client.admin('GET', '/state')).status).toBe(200);
    expect((await client.call('GET', '/partner/tenants/t1')).status).toBe(500);
    expect((await client.admin('DELETE', '/faults')).status).toBe(204);
    expect((await client.call('GET', '/partner/tenants/t1')).status).toBe(404);
  });

  it('refuses a fault that would do nothing', async () => {
    expect((await client.admin('POST', '/faults', { pathPrefix: '/api' })).status).toBe(400);
    expect((await client.admin('POST', '/faults', { pathPrefix: '/api', status: 500, rate: 2 })).status).toBe(400);
  });

  describe('reset', () => {
    let receiver: WebhookReceiver;
    beforeEach(async () => {
      receiver = await startWebhookReceiver();
    });
    afterEach(() => receiver.close());

    it('empties the state and cancels deliveries still waiting for a retry', async () => {
      await client.admin('POST', '/settings', { auditRetry: { initialDelayMs: 300 } });
      await client.api('POST', '/api/v2/webhooks/webhooks', {
        name: 'auditor',
        enabled: true,
        eventFilters: ['configuration.updated'],
        httpTarget: { uri: receiver.url },
        secret: 's',
      });
      await addFault({ pathPrefix: '/partner', status: 500 });
      receiver.answerNext({ status: 500 });
      await client.api('PUT', '/api/v2/configuration/ivr/main-menu', { version: 2 });
      await waitFor(() => receiver.received.length === 1, { what: 'the first audit attempt' });

      expect((await client.admin('POST', '/reset')).status).toBe(204);
      const state = await client.admin<Record<string, unknown[]>>('GET', '/state');
      for (const key of ['objects', 'subscriptions', 'faults', 'deliveries', 'tenants', 'installations', 'tokens', 'alerts']) {
        expect([key, state.body[key]]).toEqual([key, []]);
      }
      expect(state.body.paused).toBe(false);

      // A marker sent 600 ms after the reset arrives well after the cancelled retry (due 300 ms after the first
      // attempt) would have: if only the marker follows the first attempt, the retry is gone.
      await client.api('PUT', '/api/v2/integrations/int-marker/webhooks', { url: receiver.url, events: ['installed'], secret: 's' });
      await client.admin('POST', '/integrations/int-marker/orgs/org-marker/events', { event: 'installed', delayMs: 600 });
      await waitFor(() => receiver.received.length >= 2, { what: 'the marker delivery' });
      expect(receiver.received.map((request) => (request.body as Record<string, unknown>).eventType ?? (request.body as Record<string, unknown>).event)).toEqual([
        'configuration.updated',
        'installed',
      ]);
    });
  });

  it('close() stops pending retries so the process can exit', async () => {
    const receiver = await startWebhookReceiver();
    const other = await startEmulator({ port: 0, settings: { auditRetry: { maxRetries: 3, initialDelayMs: 60_000, backoffMultiplier: 2 } } });
    // A timer left behind would keep the process alive for a minute; jest only warns about that, so the test
    // watches the retry's timer itself.
    const setTimeoutSpy = jest.spyOn(global, 'setTimeout');
    const clearTimeoutSpy = jest.spyOn(global, 'clearTimeout');
    try {
      const otherClient = emulatorClient(other.url);
      await otherClient.api('POST', '/api/v2/webhooks/webhooks', {
        name: 'auditor',
        eventFilters: ['configuration.updated'],
        httpTarget: { uri: receiver.url },
        secret: 's',
      });
      await otherClient.admin('PUT', '/objects/ivr/x', {});
      receiver.answerNext({ status: 500 });
      await otherClient.admin('POST', '/objects/ivr/x/ui-edit', { fields: { a: 1 } });
      await waitFor(() => receiver.received.length === 1);
      const retryTimer = await waitFor(
        () => setTimeoutSpy.mock.results.find((_, index) => setTimeoutSpy.mock.calls[index][1] === 60_000)?.value as unknown,
        { what: 'the 60-second retry to be scheduled' },
      );

      await other.close();
      expect(clearTimeoutSpy.mock.calls.some(([timer]) => timer === retryTimer)).toBe(true);
    } finally {
      setTimeoutSpy.mockRestore();
      clearTimeoutSpy.mockRestore();
      await other.close();
      await receiver.close();
    }
  });
});
