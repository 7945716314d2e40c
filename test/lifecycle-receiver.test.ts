/**
 * The lifecycle receiver (POST /v1/genesys/lifecycle) end to end: the emulator delivers signed events over HTTP to
 * the real receivers, which signal-with-start installation workflows on a real Temporal server; the real worker
 * provisions against the emulator's partner systems and PostgreSQL.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { connectClient } from '../client/connection';
import { signalInstallation } from '../client/installations';
import { loadConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { LifecyclePayloadSchema, toInstallationEvent } from '../receivers/lifecycle-event';
import { startReceivers, type RunningReceivers } from '../receivers/server';
import { LIFECYCLE_EVENTS } from '../workflows/installation-messages';
import { useLifecycleStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';
import { CRM, deliveriesFor, emit, emulatorState, installation, lifecyclePayload, postSigned, schemaExists, settledIn, startTcpProxy, tenantOf } from './lifecycle-support';

const { stack, pool } = useLifecycleStack();

afterEach(async () => {
  await stack.emulator.admin('DELETE', '/faults');
});

/** Points the sandbox integration's lifecycle webhook somewhere else (and back). */
async function pointWebhookAt(url: string, retryPolicy = { maxRetries: 5, initialDelayMs: 200, backoffMultiplier: 2 }): Promise<void> {
  await stack.genesys.putIntegrationWebhooks(stack.integrationId, {
    url: `${url}/v1/genesys/lifecycle`,
    events: [...LIFECYCLE_EVENTS],
    retryPolicy,
    timeoutMs: 3000,
    secret: stack.secrets.lifecycle,
  });
}

describe('trap: non-2xx / blocking beyond the timeout', () => {
  it('acks every delivery on its first attempt while provisioning is slower than the 3 s sender timeout', async () => {
    // Every tenant create takes 4 s: synchronous provisioning would blow the sender's 3 s timeout.
    await stack.emulator.admin('POST', '/faults', { method: 'POST', pathPrefix: '/partner/tenants', latencyMs: 4000 });
    const orgs = Array.from({ length: 5 }, () => uniqueId('org-slow'));
    for (const orgId of orgs) await emit(stack, orgId, { event: 'installed', configuration: CRM });

    const firstDeliveries = await eventually('every delivery answered', async () => {
      const snapshot = await emulatorState(stack);
      const deliveries = orgs.map((orgId) => deliveriesFor(snapshot, orgId)[0]);
      return deliveries.every((delivery) => delivery?.status === 'delivered') ? deliveries : undefined;
    });
    for (const delivery of firstDeliveries) {
      expect(delivery.attempts).toBe(1);
      expect(delivery.responses).toEqual([202]);
    }
    // Acknowledged, yet not provisioned: the work was deferred to the worker.
    const states = await Promise.all(orgs.map(async (orgId) => (await installation(stack, orgId))?.state));
    expect(states.some((state) => state === 'provisioning' || state === 'pending_install')).toBe(true);

    for (const orgId of orgs) await settledIn(stack, orgId, 'active');
    const snapshot = await emulatorState(stack);
    for (const orgId of orgs) expect(tenantOf(snapshot, `tenant_${orgId}`)?.createCount).toBe(1);
  });
});

describe('trap: signature validated after parsing', () => {
  it('refuses a spoofed uninstall before any resource is touched', async () => {
    const orgId = uniqueId('org-spoof');
    const tenantId = `tenant_${orgId}`;
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
    await settledIn(stack, orgId, 'active');
    const before = await installation(stack, orgId);

    const spoof = lifecyclePayload(stack, orgId, 'uninstalled', { tenantId, sequence: 99 });
    const wrongSecret = await postSigned(stack, spoof, { secret: 'attacker-guess' });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body).toMatchObject({ error: 'invalid_signature' });

    // A captured genuine signature replayed outside the ±90 s window.
    const replayed = await postSigned(stack, spoof, { timestamp: new Date(Date.now() - 5 * 60_000) });
    expect(replayed.status).toBe(401);
    expect(replayed.body).toMatchObject({ error: 'stale_or_future_timestamp' });

    // Not even parsed: garbage with a bad signature is a 401, not a 400.
    const garbage = await postSigned(stack, '{"event":"uninstalled",', { secret: 'attacker-guess' });
    expect(garbage.status).toBe(401);
    const missing = await postSigned(stack, spoof, { signature: '' });
    expect(missing.status).toBe(401);

    const after = await installation(stack, orgId);
    expect(after?.state).toBe('active');
    expect(after?.lastEvents).toEqual(before?.lastEvents);
    const snapshot = await emulatorState(stack);
    expect(tenantOf(snapshot, tenantId)).toMatchObject({ enabled: true, streamsEnabled: true });
    expect(snapshot.crmConnections.some((c) => c.tenantId === tenantId)).toBe(true);
    expect(snapshot.tokens.filter((t) => t.kind === 'integration' && t.orgId === orgId).every((t) => !t.revoked)).toBe(true);
    expect(await schemaExists(pool, tenantId)).toBe(true);
  });

  it('answers 400 to a correctly signed body that is not a lifecycle event, and starts nothing', async () => {
    const orgId = uniqueId('org-bad');
    const response = await postSigned(stack, { event: 'exploded', orgId, integrationId: stack.integrationId });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_payload' });
    expect(await installation(stack, orgId)).toBeUndefined();
  });
});

describe('trap: idempotency keyed on integrationId only', () => {
  it('install, then configuration_updated, then another update, then disable and enable: none dropped', async () => {
    const orgId = uniqueId('org-updates');
    const tenantId = `tenant_${orgId}`;
    // One after another, as an admin would make them: each is applied before the next is sent, so the test is
    // about identity (none of them mistaken for a duplicate), not about delivery order under load.
    const inTurn = async (count: number, body: Parameters<typeof emit>[2]) => {
      await emit(stack, orgId, body);
      await eventually(`event ${count} (${body.event}) applied`, async () => {
        const view = await installation(stack, orgId);
        return view && view.pendingEvents === 0 && view.lastEvents.length >= count && view.state !== 'provisioning';
      });
    };
    await inTurn(1, { event: 'installed', tenantId, configuration: CRM });
    await inTurn(2, { event: 'configuration_updated', configuration: { ...CRM, syncInterval: 'PT1M' } });
    await inTurn(3, {
      event: 'configuration_updated',
      configuration: { ...CRM, syncInterval: 'PT1M', crmEndpoint: 'https://acme-2.salesforce.com' },
    });
    await inTurn(4, { event: 'disabled' });
    const disabled = await settledIn(stack, orgId, 'disabled');
    expect(disabled.lastEvents.map((e) => [e.event, e.outcome])).toEqual([
      ['installed', 'applied'],
      ['configuration_updated', 'applied'],
      ['configuration_updated', 'applied'],
      ['disabled', 'applied'],
    ]);
    let snapshot = await emulatorState(stack);
    expect(tenantOf(snapshot, tenantId)).toMatchObject({
      enabled: false,
      configuration: { syncInterval: 'PT1M', crmEndpoint: 'https://acme-2.salesforce.com' },
      createCount: 1,
    });
    expect(snapshot.crmConnections.find((c) => c.tenantId === tenantId)?.crmEndpoint).toBe('https://acme-2.salesforce.com');

    await emit(stack, orgId, { event: 'enabled' });
    await settledIn(stack, orgId, 'active');
    snapshot = await emulatorState(stack);
    expect(tenantOf(snapshot, tenantId)?.enabled).toBe(true);
  });
});

describe('Edge Case 3: retry loop on transient network failures', () => {
  it('retries with injected retryCount and drifting timestamps produce one tenant', async () => {
    // A proxy in front of the receiver that forwards each delivery but answers the sender 502 for the first
    // three: the seed's "downstream proxy timeout" — the event did arrive, the sender does not know it.
    let answered502 = 0;
    const proxy: Server = createServer((req, res) => {
      const upstream = httpRequest(`${stack.receiversUrl}${req.url}`, { method: req.method, headers: req.headers }, (reply) => {
        const chunks: Buffer[] = [];
        reply.on('data', (chunk: Buffer) => chunks.push(chunk));
        reply.on('end', () => {
          if (answered502 < 3) {
            answered502 += 1;
            res.writeHead(502).end('bad gateway');
          } else {
            res.writeHead(reply.statusCode ?? 500, reply.headers).end(Buffer.concat(chunks));
          }
        });
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const orgId = uniqueId('org-retry');
    const tenantId = `tenant_${orgId}`;
    try {
      await pointWebhookAt(proxyUrl);
      await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
      const delivery = await eventually('the delivery to succeed after retries', async () => {
        const found = deliveriesFor(await emulatorState(stack), orgId)[0];
        return found?.status === 'delivered' ? found : undefined;
      });
      expect(delivery.responses).toEqual([502, 502, 502, 200]);
    } finally {
      await pointWebhookAt(stack.receiversUrl);
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
    const active = await settledIn(stack, orgId, 'active');

    // The receiver's memory answered the retries; the workflow is the authority: deliver two more copies with
    // injected retry metadata straight to it, bypassing the receiver.
    const original = lifecyclePayload(stack, orgId, 'installed', { tenantId, configuration: CRM });
    const retried = (retryCount: number) =>
      LifecyclePayloadSchema.parse({
        ...original,
        metadata: { installedBy: `admin@${orgId}`, source: 'marketplace', sequence: active.lastEvents[0].sequence },
        eventTimestamp: new Date(Date.parse(active.lastEvents[0].eventTimestamp) + retryCount * 7).toISOString(),
        retryCount,
        deliveryAttempt: retryCount + 1,
      });
    await signalInstallation(stack.client, stack.taskQueue, toInstallationEvent(retried(4), new Date()));
    await signalInstallation(stack.client, stack.taskQueue, toInstallationEvent(retried(5), new Date()));
    const settled = await eventually('both copies recognised', async () => {
      const view = await installation(stack, orgId);
      return view && view.lastEvents.filter((e) => e.outcome === 'duplicate').length === 2 ? view : undefined;
    });
    expect(settled.lastEvents.filter((e) => e.outcome === 'applied')).toHaveLength(1);
    expect(settled.state).toBe('active');
    const snapshot = await emulatorState(stack);
    expect(snapshot.tenantCreateCounts[tenantId]).toEqual({ createCount: 1, createAttempts: 1 });
  });

  it('answers duplicate_handled to a redelivery the receiver already queued', async () => {
    const orgId = uniqueId('org-dup');
    const payload = lifecyclePayload(stack, orgId, 'installed', { sequence: 1 });
    const first = await postSigned(stack, payload);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'queued' });
    const again = await postSigned(stack, { ...payload, retryCount: 1, deliveryAttempt: 2, eventTimestamp: new Date().toISOString() });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'duplicate_handled', identity: first.body.identity });
    await settledIn(stack, orgId, 'active');
  });
});

describe('receiver when Temporal is unreachable or the receiver is saturated', () => {
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let receivers: RunningReceivers;
  let client: Client;

  beforeAll(async () => {
    proxy = await startTcpProxy(process.env.TOLLGATE_TEST_TEMPORAL_ADDRESS ?? '');
    const config = loadConfig({ ...stack.env, TEMPORAL_ADDRESS: proxy.address, RECEIVER_PORT: '0', RECEIVER_MAX_IN_FLIGHT: '1' });
    client = await connectClient(config.temporal);
    receivers = await startReceivers({ config, logger: createLogger({ level: 'silent' }), temporal: client, taskQueue: stack.taskQueue });
  });

  afterAll(async () => {
    await pointWebhookAt(stack.receiversUrl);
    await receivers?.close();
    await client?.connection.close();
    await proxy?.close();
  });

  it('answers 503 with Retry-After while Temporal is unreachable, and the sender’s retry delivers the event later', async () => {
    // The seed's retry policy: five retries, exponential backoff from one second.
    await pointWebhookAt(receivers.url, { maxRetries: 5, initialDelayMs: 1000, backoffMultiplier: 2 });
    proxy.down();
    // What the sender is told (the emulator records only the status): 503 and when to come back.
    const told = await postSigned(stack, lifecyclePayload(stack, uniqueId('org-outage-direct'), 'installed', { sequence: 1 }), { url: receivers.url });
    expect(told.status).toBe(503);
    expect(told.headers.get('retry-after')).toBe('5');
    const orgId = uniqueId('org-outage');
    await emit(stack, orgId, { event: 'installed', configuration: CRM });
    await eventually('the first attempt to be refused', async () => {
      const delivery = deliveriesFor(await emulatorState(stack), orgId)[0];
      return delivery && delivery.responses.length > 0;
    });
    expect(await installation(stack, orgId)).toBeUndefined();
    proxy.up();

    const delivery = await eventually(
      'the redelivery',
      async () => {
        const found = deliveriesFor(await emulatorState(stack), orgId)[0];
        return found?.status === 'delivered' ? found : undefined;
      },
      60_000,
    );
    expect(delivery.responses[0]).toBe(503);
    expect(delivery.responses.at(-1)).toBe(202);
    await settledIn(stack, orgId, 'active');
    expect((await emulatorState(stack)).tenantCreateCounts[`tenant_${orgId}`]?.createCount).toBe(1);
  });

  it('answers 429 with Retry-After beyond its in-flight limit instead of timing out', async () => {
    proxy.stall();
    try {
      const orgA = uniqueId('org-flood');
      const orgB = uniqueId('org-flood');
      const slow = postSigned(stack, lifecyclePayload(stack, orgA, 'installed', { sequence: 1 }), { url: receivers.url });
      // Wait until the first request holds the only slot.
      await eventually('the first request in flight', async () => {
        const metrics = await (await fetch(`${receivers.url}/metrics`)).text();
        return /receiver_in_flight 1/.test(metrics);
      });
      const refused = await postSigned(stack, lifecyclePayload(stack, orgB, 'installed', { sequence: 1 }), { url: receivers.url });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBeTruthy();
      const held = await slow;
      expect(held.status).toBe(503);
      expect(held.headers.get('retry-after')).toBeTruthy();
    } finally {
      proxy.up();
    }
  });
});
