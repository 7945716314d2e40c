/**
 * The receivers' Temporal connection (client/native-connection.ts): the Rust core's NativeConnection, made on first
 * use, again after a refused attempt, within each call's deadline, across a server restart, against real dev
 * servers; and the receivers on it (RECEIVER_TEMPORAL_CONNECTION=native) end to end. Their fail-fast behaviour is
 * held by test/fail-fast.test.ts for both connections.
 */
import { Client, Connection, isGrpcServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionClosedError, LazyNativeConnection } from '../client/native-connection';
import { loadConfig } from '../platform/config';
import { freePort, startDevServer } from '../platform/dev-server';
import { createLogger } from '../platform/logger';
import { isTemporalUnavailable } from '../receivers/ack';
import { startReceivers } from '../receivers/server';
import { installationWorkflowId } from '../workflows/workflow-ids';
import { stalledServer } from './harness/stalled-server';

jest.setTimeout(60_000);

const address = () => {
  const value = process.env.TOLLGATE_TEST_TEMPORAL_ADDRESS;
  if (!value) throw new Error('TOLLGATE_TEST_TEMPORAL_ADDRESS is not set (test/global-setup.ts)');
  return value;
};

/** A lazy connection that counts its attempts to connect. */
function counted(options: NativeConnectionOptions): { connection: LazyNativeConnection; client: Client; attempts: () => number } {
  let attempts = 0;
  const connection = new LazyNativeConnection(options, (o) => {
    attempts++;
    return NativeConnection.connect(o);
  });
  return { connection, client: new Client({ connection, namespace: 'default' }), attempts: () => attempts };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('LazyNativeConnection', () => {
  it('connects on first use, once for concurrent first calls, and carries calls to the server', async () => {
    const { connection, client, attempts } = counted({ address: address() });
    try {
      expect(attempts()).toBe(0);
      const taskQueue = `native-connection-${randomUUID()}`;
      const ids = [1, 2, 3].map((n) => `native-connection-${randomUUID()}-${n}`);
      // No worker: the workflows only have to exist on the server.
      await Promise.all(ids.map((workflowId) => client.workflow.start('noSuchWorkflow', { workflowId, taskQueue })));
      expect(attempts()).toBe(1);
      for (const workflowId of ids) {
        const description = await client.workflow.getHandle(workflowId).describe();
        expect(description.status.name).toBe('RUNNING');
        await client.workflow.getHandle(workflowId).terminate('test over');
      }
      expect(attempts()).toBe(1);
    } finally {
      await connection.close();
    }
  });

  it('fails a call at once when the port refuses, as "unavailable" to the receivers, and tries again on the next call', async () => {
    const { connection, client, attempts } = counted({ address: `127.0.0.1:${await freePort()}` });
    try {
      const first = await rejection(client.workflow.getHandle('whatever').describe());
      expect(isTemporalUnavailable(first)).toBe(true);
      const second = await rejection(client.workflow.getHandle('whatever').describe());
      expect(isTemporalUnavailable(second)).toBe(true);
      expect(attempts()).toBe(2);
    } finally {
      await connection.close();
    }
  });

  it('ends a call at its deadline while the connection is still being made (a server that accepts and never answers)', async () => {
    const stalled = await stalledServer();
    const { connection, client } = counted({ address: stalled.address });
    try {
      const error = await rejection(connection.withDeadline(Date.now() + 300, () => client.workflow.getHandle('whatever').describe()));
      expect(isTemporalUnavailable(error)).toBe(true);
    } finally {
      // Does not wait for the connection that is still being made.
      await connection.close();
      await stalled.close();
    }
  });

  it('carries the deadline to a call on a made connection', async () => {
    const { connection, client } = counted({ address: address() });
    try {
      await connection.ensureConnected();
      const code = (error: unknown) => [error, (error as { cause?: unknown }).cause].find(isGrpcServiceError)?.code;
      // Without a deadline the server answers: no such workflow.
      expect(await rejection(client.workflow.getHandle(`missing-${randomUUID()}`).describe())).toBeInstanceOf(WorkflowNotFoundError);
      // With one already passed, the core ends the call before the server is asked.
      const late = await rejection(connection.withDeadline(Date.now() - 1, () => client.workflow.getHandle(`missing-${randomUUID()}`).describe()));
      expect([1, 4]).toContain(code(late)); // CANCELLED or DEADLINE_EXCEEDED
      expect(isTemporalUnavailable(late)).toBe(true);
    } finally {
      await connection.close();
    }
  });

  it('keeps working across a restart of the Temporal server: unavailable while it is down, answered once it is back', async () => {
    const binary = process.env.TOLLGATE_TEMPORAL_BIN as string;
    const port = await freePort();
    const dbFile = join(mkdtempSync(join(tmpdir(), 'tollgate-native-restart-')), 'temporal.db');
    let server = await startDevServer({ binary, port, headless: true, dbFile });
    const { connection, client, attempts } = counted({ address: server.address });
    try {
      const taskQueue = `native-restart-${randomUUID()}`;
      const workflowId = `native-restart-${randomUUID()}`;
      await client.workflow.start('noSuchWorkflow', { workflowId, taskQueue });
      await server.stop();

      const down = await rejection(connection.withDeadline(Date.now() + 1_000, () => client.workflow.getHandle(workflowId).describe()));
      expect(isTemporalUnavailable(down)).toBe(true);

      server = await startDevServer({ binary, port, headless: true, dbFile });
      let description: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['describe']>> | undefined;
      for (const until = Date.now() + 30_000; !description && Date.now() < until; ) {
        description = await connection.withDeadline(Date.now() + 2_000, () => client.workflow.getHandle(workflowId).describe()).catch(() => undefined);
        if (!description) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(description?.status.name).toBe('RUNNING');
      // The same connection, reconnected by the core: not a new one.
      expect(attempts()).toBe(1);
    } finally {
      await connection.close();
      await server.stop();
    }
  });

  it('makes no connection when closed before first use, and refuses calls once closed', async () => {
    const { connection, client, attempts } = counted({ address: address() });
    await connection.close();
    expect(attempts()).toBe(0);
    const error = await rejection(client.workflow.getHandle('whatever').describe());
    expect([error, (error as { cause?: unknown }).cause].some((e) => e instanceof ConnectionClosedError)).toBe(true);
    expect(attempts()).toBe(0);
  });
});

describe('the receivers with RECEIVER_TEMPORAL_CONNECTION=native', () => {
  it('record a signed lifecycle event in Temporal before answering 202, and report themselves ready', async () => {
    const secret = 'native-receivers-secret';
    const taskQueue = `native-receivers-${randomUUID()}`;
    const config = loadConfig({
      TEMPORAL_ADDRESS: address(),
      RECEIVER_PORT: '0',
      RECEIVER_TEMPORAL_CONNECTION: 'native',
      LIFECYCLE_WEBHOOK_SECRETS: secret,
      LOG_LEVEL: 'silent',
    });
    const receivers = await startReceivers({ config, logger: createLogger({ level: 'silent' }), taskQueue });
    const checker = await Connection.connect({ address: address() });
    try {
      expect((await fetch(`${receivers.url}/readyz`)).status).toBe(200);
      const orgId = `org-native-${randomUUID().slice(0, 8)}`;
      const body = JSON.stringify({
        event: 'installed',
        integrationId: 'integration-native',
        orgId,
        tenantId: `tenant_${orgId}`,
        configuration: {},
        eventTimestamp: new Date().toISOString(),
      });
      const response = await fetch(`${receivers.url}/v1/genesys/lifecycle`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-genesys-signature': createHmac('sha256', secret).update(body).digest('hex'),
          'x-genesys-event-timestamp': new Date().toISOString(),
        },
        body,
      });
      expect(response.status).toBe(202);
      // Read back through a separate (grpc-js) client: the event is in the installation workflow's history.
      const handle = new Client({ connection: checker }).workflow.getHandle(installationWorkflowId(orgId, 'integration-native'));
      const history = await handle.fetchHistory();
      const signals = (history.events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes);
      expect(signals).toHaveLength(1);
      await handle.terminate('test over');
    } finally {
      await receivers.close();
      await checker.close();
    }
  });
});
