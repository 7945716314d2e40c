/**
 * The Genesys Cloud client against the Genesys Cloud emulator over real HTTP: tokens, rate limits, server and
 * network faults, optimistic locking, paging, and the lifecycle endpoints.
 */
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { startEmulator, type RunningEmulator } from '../emulator';
import { emulatorClient, waitFor, type EmulatorClient } from '../emulator/testing';
import { GenesysClient, objectFields, type GenesysConfig } from '../genesys/client';
import {
  GenesysAuthError,
  GenesysConflictError,
  GenesysError,
  GenesysNetworkError,
  GenesysNotFoundError,
  GenesysProtocolError,
  GenesysRateLimitedError,
  GenesysServerError,
  toActivityFailure,
} from '../genesys/errors';

const CLIENT_ID = 'tollgate-sandbox';
const CLIENT_SECRET = 'sandbox-secret-do-not-log';

interface AccessTokenState {
  kind: string;
  expired?: boolean;
}
interface FaultState {
  id: string;
  hits: number;
}
interface EmulatorState {
  objects: Array<{ type: string; id: string; version: number }>;
  tokens: AccessTokenState[];
  faults: FaultState[];
  subscriptions: Array<Record<string, unknown>>;
}

describe('Genesys Cloud client (against the emulator over HTTP)', () => {
  let emulator: RunningEmulator;
  let admin: EmulatorClient;
  const logLines: string[] = [];
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk, _encoding, callback) {
        logLines.push(String(chunk));
        callback();
      },
    }),
  );
  const clients: GenesysClient[] = [];

  const config = (): GenesysConfig => ({
    apiBase: emulator.url,
    loginBase: emulator.url,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    requestsPerMinute: 300,
    timeoutMs: 5_000,
  });
  const newClient = (overrides: Partial<GenesysConfig> = {}) => {
    const client = new GenesysClient({ ...config(), ...overrides }, { logger });
    clients.push(client);
    return client;
  };
  const state = async () => (await admin.admin<EmulatorState>('GET', '/state')).body;
  const accessTokens = async () => (await state()).tokens.filter((token) => token.kind === 'access');
  const fault = async (spec: Record<string, unknown>) => (await admin.admin<{ id: string }>('POST', '/faults', spec)).body.id;
  const faultHits = async (id: string) => (await state()).faults.find((f) => f.id === id)?.hits;
  const seed = async (type: string, id: string, body: Record<string, unknown>) =>
    admin.admin('PUT', `/objects/${encodeURIComponent(type)}/${encodeURIComponent(id)}`, body);
  const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, settings: { clients: { [CLIENT_ID]: CLIENT_SECRET } } });
    admin = emulatorClient(emulator.url);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await emulator.close();
  });
  beforeEach(async () => {
    await admin.admin('POST', '/reset');
  });

  describe('tokens (change gate, Edge Case 2: OAuth token expiry during deployment)', () => {
    it('refreshes a token that expired between two calls before the second call, which succeeds', async () => {
      await admin.admin('POST', '/settings', { tokenTtlSeconds: 1 });
      await seed('ivr', 'main', { greeting: 'hello' });
      const client = newClient();

      await expect(client.getObject('ivr', 'main')).resolves.toMatchObject({ id: 'main', version: 1 });
      await waitFor(async () => (await accessTokens()).every((token) => token.expired), { timeoutMs: 5_000, what: 'the first token to expire' });

      await expect(client.getObject('ivr', 'main')).resolves.toMatchObject({ id: 'main', greeting: 'hello' });
      expect(await accessTokens()).toHaveLength(2);
    });

    it('after a 401 drops the token, gets a new one and retries the call once, which succeeds', async () => {
      await seed('ivr', 'main', { greeting: 'hello' });
      const client = newClient();
      await client.getObject('ivr', 'main');
      // The server forgets the token while the client still believes in it (1 h lifetime).
      await admin.admin('POST', '/tokens/expire');

      await expect(client.getObject('ivr', 'main')).resolves.toMatchObject({ id: 'main' });
      expect(await accessTokens()).toHaveLength(2);
    });

    it('gives up with GenesysAuthError when the fresh token is refused too (a second 401)', async () => {
      await admin.admin('POST', '/settings', { tokenTtlSeconds: 0.001 });
      await seed('ivr', 'main', {});
      const client = newClient();

      const error = await client.getObject('ivr', 'main').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GenesysAuthError);
      expect(error).toMatchObject({ status: 401, retryable: false });
      expect(await accessTokens()).toHaveLength(2);
      expect(toActivityFailure(error)).toMatchObject({ type: 'GenesysAuthError', nonRetryable: true });
    });

    it('refuses with GenesysAuthError when the client credentials are wrong', async () => {
      const client = newClient({ clientSecret: 'not-the-secret' });
      await expect(client.getObject('ivr', 'main')).rejects.toBeInstanceOf(GenesysAuthError);
    });

    it('shares one token request among concurrent callers', async () => {
      await seed('ivr', 'main', {});
      const client = newClient();
      await Promise.all(Array.from({ length: 8 }, () => client.getObject('ivr', 'main')));
      expect(await accessTokens()).toHaveLength(1);
    });
  });

  describe('rate limits (429 honours Retry-After)', () => {
    it('waits a short Retry-After (1 s) inside the client and then succeeds', async () => {
      await seed('ivr', 'main', {});
      const faultId = await fault({ method: 'GET', pathPrefix: '/api/v2/configuration/ivr/main', status: 429, retryAfterSeconds: 1, count: 1 });
      const client = newClient();

      await expect(client.getObject('ivr', 'main')).resolves.toMatchObject({ id: 'main' });
      expect(await faultHits(faultId)).toBe(1);
    });

    it('hands a long Retry-After (60 s) to the activity retry: GenesysRateLimitedError → nextRetryDelay', async () => {
      await seed('ivr', 'main', {});
      const faultId = await fault({ pathPrefix: '/api/v2/configuration/ivr/main', status: 429, retryAfterSeconds: 60 });
      const client = newClient();

      const error = await client.getObject('ivr', 'main').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GenesysRateLimitedError);
      expect(error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 60_000 });
      expect(await faultHits(faultId)).toBe(1);

      const failure = toActivityFailure(error);
      expect(failure).toMatchObject({ type: 'GenesysRateLimitedError', nonRetryable: false, nextRetryDelay: 60_000 });
    });

    it('re-sends a rate-limited write (a 429 was not processed) and the write lands once', async () => {
      const id = unique('queue');
      await seed('queue', id, { size: 1 });
      const faultId = await fault({ method: 'PUT', pathPrefix: `/api/v2/configuration/queue/${id}`, status: 429, retryAfterSeconds: 1, count: 1 });
      const client = newClient();

      await expect(client.writeObject('queue', id, { version: 2, size: 2 })).resolves.toMatchObject({ version: 2, size: 2 });
      expect(await faultHits(faultId)).toBe(1);
    });
  });

  describe('server and network faults', () => {
    it('turns a persistent 500 into a retryable GenesysServerError after two quick retries of a GET', async () => {
      await seed('ivr', 'main', {});
      const faultId = await fault({ method: 'GET', pathPrefix: '/api/v2/configuration/ivr/main', status: 500 });
      const client = newClient();

      const error = await client.getObject('ivr', 'main').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GenesysServerError);
      expect(error).toMatchObject({ status: 500, retryable: true, outcomeUnknown: false });
      expect(await faultHits(faultId)).toBe(3);
      expect(toActivityFailure(error)).toMatchObject({ type: 'GenesysServerError', nonRetryable: false });
    });

    it('does not re-send a write that got a 500, and marks its outcome unknown', async () => {
      const id = unique('queue');
      await seed('queue', id, { size: 1 });
      const faultId = await fault({ method: 'PUT', pathPrefix: `/api/v2/configuration/queue/${id}`, status: 500 });
      const client = newClient();

      const error = await client.writeObject('queue', id, { version: 2, size: 2 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GenesysServerError);
      expect(error).toMatchObject({ retryable: true, outcomeUnknown: true });
      expect(await faultHits(faultId)).toBe(1);
    });

    it('reports a dropped connection during a PUT as GenesysNetworkError with outcomeUnknown, and never re-sends it', async () => {
      const id = unique('trunk');
      await seed('trunk', id, { codec: 'opus' });
      // One drop only: a blind re-send would go through and move the version to 2.
      const faultId = await fault({ method: 'PUT', pathPrefix: `/api/v2/configuration/trunk/${id}`, drop: true, count: 1 });
      const client = newClient();

      const error = await client.writeObject('trunk', id, { version: 2, codec: 'g711' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GenesysNetworkError);
      expect(error).toMatchObject({ retryable: true, outcomeUnknown: true, status: undefined });
      expect(await faultHits(faultId)).toBe(1);

      // Settled by reading: the write never landed, and only the one request reached the emulator.
      const object = (await state()).objects.find((o) => o.type === 'trunk' && o.id === id);
      expect(object).toMatchObject({ version: 1, codec: 'opus' });
      await expect(client.getObject('trunk', id)).resolves.toMatchObject({ version: 1 });
    });

    it('retries a GET whose connection was dropped, and succeeds', async () => {
      await seed('ivr', 'main', { greeting: 'hi' });
      const faultId = await fault({ method: 'GET', pathPrefix: '/api/v2/configuration/ivr/main', drop: true, count: 1 });
      const client = newClient();

      await expect(client.getObject('ivr', 'main')).resolves.toMatchObject({ greeting: 'hi' });
      expect(await faultHits(faultId)).toBe(1);
    });

    it('times out a call that takes longer than timeoutMs as a GenesysNetworkError', async () => {
      await seed('ivr', 'slow', {});
      await fault({ method: 'PUT', pathPrefix: '/api/v2/configuration/ivr/slow', latencyMs: 2_000 });
      const client = newClient({ timeoutMs: 300 });

      const error = await client.writeObject('ivr', 'slow', { version: 2 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GenesysNetworkError);
      expect(error).toMatchObject({ outcomeUnknown: true });
    });

    it('treats a response of the wrong shape as a non-retryable GenesysProtocolError', async () => {
      await seed('ivr', 'main', {});
      await fault({ method: 'GET', pathPrefix: '/api/v2/configuration/ivr/main', status: 200 });
      const client = newClient();

      const error = await client.getObject('ivr', 'main').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GenesysProtocolError);
      expect(toActivityFailure(error)).toMatchObject({ type: 'GenesysProtocolError', nonRetryable: true });
    });
  });

  describe('configuration objects', () => {
    it('reads an object; a missing one is GenesysNotFoundError', async () => {
      await seed('ivr', 'main', { greeting: 'hello', menu: [1, 2] });
      const client = newClient();

      const object = await client.getObject('ivr', 'main');
      expect(object).toMatchObject({ id: 'main', type: 'ivr', version: 1, greeting: 'hello' });
      expect(objectFields(object)).toEqual({ greeting: 'hello', menu: [1, 2] });

      const missing = await client.getObject('ivr', 'nope').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(GenesysNotFoundError);
      expect(toActivityFailure(missing)).toMatchObject({ type: 'GenesysNotFoundError', nonRetryable: true });
    });

    it('URL-encodes path segments', async () => {
      await seed('ivr', 'flow a/b?c', { greeting: 'encoded' });
      const client = newClient();
      await expect(client.getObject('ivr', 'flow a/b?c')).resolves.toMatchObject({ id: 'flow a/b?c', greeting: 'encoded' });
    });

    it('writes with version = current + 1 and returns the new object', async () => {
      await seed('ivr', 'main', { greeting: 'hello' });
      const client = newClient();

      const written = await client.writeObject('ivr', 'main', { version: 2, greeting: 'bonjour' });
      expect(written).toMatchObject({ id: 'main', version: 2, greeting: 'bonjour', modifiedBy: { kind: 'client', id: CLIENT_ID } });
    });

    it('answers a stale version (Edge Case 1: concurrent updates) with GenesysConflictError carrying currentVersion', async () => {
      await seed('ivr', 'main', { version: 9, greeting: 'hello' });
      const client = newClient();

      const error = await client.writeObject('ivr', 'main', { version: 9, greeting: 'stale' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GenesysConflictError);
      expect(error).toMatchObject({ status: 409, currentVersion: 9, retryable: false });
      const failure = toActivityFailure(error);
      expect(failure).toMatchObject({ type: 'GenesysConflictError', nonRetryable: true });
      expect(failure.details?.[0]).toMatchObject({ currentVersion: 9 });
    });

    it('refuses another 4xx as a non-retryable GenesysError with its status', async () => {
      await seed('ivr', 'main', {});
      const client = newClient();

      const error = await client.writeObject('ivr', 'main', { version: 1.5 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GenesysError);
      expect(error).toMatchObject({ name: 'GenesysError', status: 400, retryable: false });
      expect(toActivityFailure(error)).toMatchObject({ type: 'GenesysError', nonRetryable: true });
    });

    it('lists changes since a time across pages, oldest first (Edge Case 3: the heartbeat poll)', async () => {
      const base = Date.parse('2030-01-01T00:00:00Z');
      await seed('ivr', 'before', { lastModifiedTime: new Date(base - 60_000).toISOString() });
      for (let i = 0; i < 7; i++) {
        await seed('queue', `q${i}`, { lastModifiedTime: new Date(base + i * 1_000).toISOString(), index: i });
      }
      const client = newClient();

      const changes = await client.listChangesSince(new Date(base), 3);
      expect(changes.map((change) => change.id)).toEqual(['q0', 'q1', 'q2', 'q3', 'q4', 'q5', 'q6']);
      await expect(client.listChangesSince(new Date(base + 100_000), 3)).resolves.toEqual([]);
    });
  });

  describe('integrations and webhooks', () => {
    it('lists installations, revokes an org’s tokens, and counts an already revoked token as already_gone', async () => {
      const integrationId = unique('integration');
      const orgId = unique('org');
      await admin.admin('POST', `/integrations/${integrationId}/orgs/${orgId}/events`, { event: 'installed', tenantId: `tenant-${orgId}` });
      const client = newClient();

      const installations = await client.listInstallations(integrationId);
      expect(installations).toEqual([expect.objectContaining({ orgId, integrationId, tenantId: `tenant-${orgId}`, status: 'installed' })]);

      await expect(client.revokeIntegrationTokens(integrationId, orgId)).resolves.toBe('revoked');
      await expect(client.revokeIntegrationTokens(integrationId, orgId)).resolves.toBe('already_gone');
      await expect(client.revokeIntegrationTokens(integrationId, unique('never-installed'))).resolves.toBe('already_gone');
    });

    it('creates a configuration.updated webhook subscription with the seed’s body and a signing secret', async () => {
      const client = newClient();
      const subscription = await client.createWebhookSubscription({
        name: 'Prod-Config-Change-Auditor',
        description: 'Audits all production configuration changes',
        enabled: true,
        eventFilters: ['configuration.updated'],
        httpTarget: { uri: 'http://127.0.0.1:9/webhooks/genesys-config-audit' },
        authScheme: 'basic',
        authUsername: 'webhook_user',
        authPassword: 'webhook_secret',
        event: { type: 'configuration' },
        secret: 'audit-signing-secret',
      });
      expect(subscription.id).toEqual(expect.any(String));
      const stored = (await state()).subscriptions;
      expect(stored).toEqual([expect.objectContaining({ id: subscription.id, name: 'Prod-Config-Change-Auditor' })]);
    });

    it('sets an integration’s lifecycle webhook with the seed’s body', async () => {
      const integrationId = unique('integration');
      const client = newClient();
      const webhooks = await client.putIntegrationWebhooks(integrationId, {
        url: 'http://127.0.0.1:9/v1/genesys/lifecycle',
        events: ['installed', 'uninstalled', 'configuration_updated'],
        retryPolicy: { maxRetries: 5, initialDelayMs: 1000, backoffMultiplier: 2 },
        timeoutMs: 3000,
        secret: 'lifecycle-signing-secret',
      });
      expect(webhooks).toMatchObject({ url: 'http://127.0.0.1:9/v1/genesys/lifecycle', events: ['installed', 'uninstalled', 'configuration_updated'] });
      expect(JSON.stringify(webhooks)).not.toContain('lifecycle-signing-secret');
    });
  });

  it('never logs the client secret or an access token', async () => {
    await seed('ivr', 'main', {});
    const client = newClient();
    await client.getObject('ivr', 'main');
    await admin.admin('POST', '/tokens/expire');
    await client.getObject('ivr', 'main');

    const log = logLines.join('');
    expect(log).toContain('genesys call');
    expect(log).not.toContain(CLIENT_SECRET);
    expect(log).not.toContain(Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64'));
    expect(log).not.toMatch(/Bearer /);
    expect(log).not.toContain('access_token');
  });
});
