/**
 * The receivers' HTTP shell over real HTTP, with a real Temporal client that cannot reach its server
 * (127.0.0.1:1): readiness, the ack rule (never a 2xx for an event Temporal did not record), the body limit, the
 * flood guard, metrics, and the guarantee that a spoofed request never reaches a route handler.
 */
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { Router } from 'express';
import pino from 'pino';
import { request } from 'undici';
import { loadConfig, type Config } from '../platform/config';
import { acknowledge } from '../receivers/ack';
import { createReceiverApp } from '../receivers/app';
import type { ReceiverDeps } from '../receivers/deps';
import { createReceiverMetrics } from '../receivers/metrics';
import { startReceivers } from '../receivers/server';
import { verifiedRawBody, verifiedWebhook } from '../receivers/verified-webhook';
import { eventually } from './harness/stack';

const OLD_SECRET = 'test-secret-old';
const NEW_SECRET = 'test-secret-new';
const BODY_LIMIT = 1024;

describe('receivers app (real HTTP, Temporal unreachable)', () => {
  let config: Config;
  let temporal: Client;
  let deps: ReceiverDeps;
  let server: http.Server;
  let url: string;
  /** Every call that reached the test route's handler, i.e. passed verification. */
  const handled: Array<{ body: unknown }> = [];
  /** The slow route's pending requests, released by the flood-guard test. */
  const held: Array<() => void> = [];
  let nextWork: () => Promise<unknown> = async () => undefined;

  const profile = () => config.receivers.lifecycle.profile;
  const sign = (raw: Buffer, secret = NEW_SECRET) => createHmac('sha256', secret).update(raw).digest('hex');
  const nowSeconds = () => String(Math.floor(Date.now() / 1000));
  const post = async (path: string, raw: Buffer | string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
  const postSigned = (path: string, payload: unknown, options: { secret?: string; timestamp?: string } = {}) => {
    const raw = Buffer.from(JSON.stringify(payload));
    return post(path, raw, { 'X-Genesys-Signature': sign(raw, options.secret), 'X-Genesys-Event-Timestamp': options.timestamp ?? nowSeconds() });
  };
  const metricsText = async () => (await fetch(`${url}/metrics`)).text();
  /** One sample of the Prometheus text (`name{labels}` as exported), 0 while the series does not exist yet. The
   * counters are shared by every test of this file, so assertions compare a test's before and after. */
  const sample = async (series: string) => {
    const line = (await metricsText()).split('\n').find((candidate) => candidate.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };

  beforeAll(async () => {
    config = loadConfig({
      LOG_LEVEL: 'silent',
      RECEIVER_PORT: '0',
      RECEIVER_BODY_LIMIT_BYTES: String(BODY_LIMIT),
      RECEIVER_MAX_IN_FLIGHT: '2',
      RECEIVER_ACK_TIMEOUT: '1s',
      LIFECYCLE_WEBHOOK_SECRETS: `${OLD_SECRET},${NEW_SECRET}`,
    });
    // A lazy connection: the receivers must start (and say they are unready) while Temporal is down.
    temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }), namespace: 'default' });
    const metrics = createReceiverMetrics();
    deps = { config, temporal, logger: pino({ level: 'silent' }), metrics, taskQueue: `test-${randomUUID()}` };

    const testRoutes = Router();
    testRoutes.post(
      '/test/webhook',
      verifiedWebhook({ name: 'test', secrets: config.receivers.lifecycle.secrets, profile: profile(), bodyLimitBytes: BODY_LIMIT, metrics }),
      async (_req, res) => {
        const body = JSON.parse(verifiedRawBody(res).toString('utf8')) as unknown;
        handled.push({ body });
        await acknowledge(res, deps, () => nextWork(), { status: 202, body: { status: 'queued' } });
      },
    );
    testRoutes.post('/test/slow', async (_req, res) => {
      await new Promise<void>((resolve) => held.push(resolve));
      res.json({ status: 'done' });
    });

    server = http.createServer(createReceiverApp(deps, { routes: [testRoutes] }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    held.splice(0).forEach((release) => release());
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await temporal.connection.close();
  });

  beforeEach(() => {
    handled.length = 0;
    nextWork = async () => undefined;
  });

  it('answers /healthz with 200 while the process runs, even with Temporal down', async () => {
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
  });

  it('answers /readyz with 503 when Temporal does not answer', async () => {
    const response = await fetch(`${url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable' });
  });

  it('answers 503 with Retry-After, never a 2xx, when Temporal cannot record the event', async () => {
    nextWork = () =>
      temporal.workflow.start('tollgateNeverRuns', { taskQueue: deps.taskQueue, workflowId: `never-${randomUUID()}`, args: [] });
    const response = await postSigned('/test/webhook', { event: 'installed', orgId: 'org-1' });

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.body).toEqual({ status: 'unavailable' });
    expect(handled).toHaveLength(1);
  });

  it('answers 503 when the durable call outlives the ack deadline (lifecycle trap: blocking beyond the timeout)', async () => {
    nextWork = () => new Promise(() => undefined);
    const response = await postSigned('/test/webhook', { event: 'installed' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
  });

  it('answers the route’s 2xx only once the durable call resolved', async () => {
    let recorded = false;
    nextWork = async () => {
      recorded = true;
    };
    const response = await postSigned('/test/webhook', { event: 'installed' });
    expect(response).toMatchObject({ status: 202, body: { status: 'queued' } });
    expect(recorded).toBe(true);
  });

  it('answers 500 without details when the durable call fails for another reason', async () => {
    nextWork = async () => {
      throw new Error('database password is hunter2');
    };
    const response = await postSigned('/test/webhook', { event: 'installed' });
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ error: 'internal_error' });
  });

  it('rejects a spoofed uninstall before it reaches the route handler', async () => {
    const spoofed = await postSigned('/test/webhook', { event: 'uninstalled', orgId: 'victim' }, { secret: 'attacker-secret' });
    expect(spoofed).toMatchObject({ status: 401, body: { error: 'invalid_signature' } });

    const unsigned = await post('/test/webhook', JSON.stringify({ event: 'uninstalled', orgId: 'victim' }));
    expect(unsigned).toMatchObject({ status: 401, body: { error: 'missing_signature' } });

    // Not even parsed: malformed JSON with a bad signature is a 401, not a 400.
    const garbage = await post('/test/webhook', '{not json', { 'X-Genesys-Signature': 'a'.repeat(64), 'X-Genesys-Event-Timestamp': nowSeconds() });
    expect(garbage).toMatchObject({ status: 401, body: { error: 'invalid_signature' } });

    expect(handled).toHaveLength(0);
  });

  it('rejects a replayed (stale) and a future-dated event with stale_or_future_timestamp', async () => {
    const stale = await postSigned('/test/webhook', { event: 'uninstalled' }, { timestamp: String(Math.floor(Date.now() / 1000) - 600) });
    expect(stale).toMatchObject({ status: 401, body: { error: 'stale_or_future_timestamp' } });
    const future = await postSigned('/test/webhook', { event: 'uninstalled' }, { timestamp: new Date(Date.now() + 600_000).toISOString() });
    expect(future).toMatchObject({ status: 401, body: { error: 'stale_or_future_timestamp' } });
    expect(handled).toHaveLength(0);
  });

  it('accepts the old secret during a rotation and counts which secret matched', async () => {
    const oldSecret = 'webhook_signature_secret_total{route="test",secret_index="0"}';
    const newSecret = 'webhook_signature_secret_total{route="test",secret_index="1"}';
    const before = { old: await sample(oldSecret), new: await sample(newSecret) };
    await postSigned('/test/webhook', { event: 'installed' }, { secret: OLD_SECRET });
    await postSigned('/test/webhook', { event: 'installed' }, { secret: NEW_SECRET });
    await postSigned('/test/webhook', { event: 'installed' }, { secret: NEW_SECRET });
    expect(handled).toHaveLength(3);
    expect(await sample(oldSecret)).toBe(before.old + 1);
    expect(await sample(newSecret)).toBe(before.new + 2);
  });

  it('answers 413 to a body over the limit declared by Content-Length, before reading it', async () => {
    const raw = Buffer.alloc(BODY_LIMIT * 2, 'a');
    const response = await post('/test/webhook', raw, { 'X-Genesys-Signature': sign(raw), 'X-Genesys-Event-Timestamp': nowSeconds() });
    expect(response).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
    expect(handled).toHaveLength(0);
  });

  it('answers 413 to a chunked body as soon as it passes the limit', async () => {
    const raw = Buffer.alloc(BODY_LIMIT + 200, 'b');
    const response = await request(`${url}/test/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-genesys-signature': sign(raw), 'x-genesys-event-timestamp': nowSeconds() },
      body: Readable.from([raw.subarray(0, 600), raw.subarray(600)]),
    });
    expect(response.statusCode).toBe(413);
    expect(await response.body.json()).toEqual({ error: 'payload_too_large' });
    expect(handled).toHaveLength(0);
  });

  it('answers a flood with 429 and Retry-After instead of letting requests time out', async () => {
    const slow = [post('/test/slow', '{}'), post('/test/slow', '{}')];
    await eventually('two requests in flight', async () => held.length === 2, 10_000, 25);

    const refused = await post('/test/webhook', '{}');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await metricsText()).toMatch(/receiver_in_flight 2/);

    held.splice(0).forEach((release) => release());
    const done = await Promise.all(slow);
    expect(done.map((r) => r.status)).toEqual([200, 200]);
    // The slots are free again.
    const after = await postSigned('/test/webhook', { event: 'installed' });
    expect(after.status).toBe(202);
  });

  it('exports Prometheus counters for received, rejected (by reason), acked (by status) and ack latency', async () => {
    const series = {
      received: 'webhook_received_total{route="test"}',
      invalidSignature: 'webhook_rejected_total{route="test",reason="invalid_signature"}',
      acked202: 'webhook_acked_total{route="test",status="202"}',
      acked503: 'webhook_acked_total{route="test",status="503"}',
      ackLatencies: 'webhook_ack_seconds_count{route="test"}',
    };
    const read = async (): Promise<Record<string, number>> =>
      Object.fromEntries(await Promise.all(Object.entries(series).map(async ([key, name]) => [key, await sample(name)])));
    const before = await read();
    await postSigned('/test/webhook', { event: 'installed' }, { secret: 'attacker-secret' });
    await postSigned('/test/webhook', { event: 'installed' });
    nextWork = () => new Promise(() => undefined);
    await postSigned('/test/webhook', { event: 'installed' });
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await response.text()).toMatch(/process_cpu_user_seconds_total/);
    const after = await read();
    expect(Object.fromEntries(Object.keys(series).map((key) => [key, after[key] - before[key]]))).toEqual({
      received: 3,
      invalidSignature: 1,
      acked202: 1,
      acked503: 1,
      ackLatencies: 2,
    });
  });

  it('answers an unknown path with a JSON 404', async () => {
    const response = await post('/nowhere', '{}');
    expect(response).toMatchObject({ status: 404, body: { error: 'not_found' } });
  });

  it('starts as a process shell on an ephemeral port and closes cleanly', async () => {
    const receivers = await startReceivers({ config, logger: pino({ level: 'silent' }), temporal });
    try {
      expect(receivers.port).toBeGreaterThan(0);
      const health = await fetch(`${receivers.url}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`${receivers.url}/readyz`);
      expect(ready.status).toBe(503);
    } finally {
      await receivers.close();
    }
    await expect(fetch(`${receivers.url}/healthz`)).rejects.toThrow();
  });
});
