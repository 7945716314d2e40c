/** Shared steps of the lifecycle tests: emit events from the emulator, read installations, sign our own webhooks,
 * run `tollgate worker` as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { Pool } from 'pg';
import { schemaNameForTenant } from '../activities/provisioning/database-schema';
import { heartbeatScheduleId } from '../schedules/heartbeat';
import { reconciliationScheduleId } from '../schedules/reconciliation';
import { installationStateQuery, type InstallationStateName, type InstallationView } from '../workflows/installation-messages';
import { installationWorkflowId } from '../workflows/workflow-ids';
import { eventually, type TestStack } from './harness/stack';

export interface EmitRequest {
  event: 'installed' | 'uninstalled' | 'enabled' | 'disabled' | 'configuration_updated';
  tenantId?: string;
  configuration?: Record<string, unknown>;
  duplicates?: number;
  delayMs?: number;
  withEventId?: boolean;
}

/** Genesys Cloud (the emulator) records the event and delivers it, signed, to the receivers. */
export function emit(stack: TestStack, orgId: string, request: EmitRequest): Promise<{ sequence: number; deliveryIds: string[] }> {
  return stack.emulator.admin('POST', `/integrations/${stack.integrationId}/orgs/${orgId}/events`, request);
}

export async function installation(stack: TestStack, orgId: string): Promise<InstallationView | undefined> {
  try {
    return await stack.client.workflow.getHandle(installationWorkflowId(orgId, stack.integrationId)).query(installationStateQuery);
  } catch {
    return undefined;
  }
}

/** Waits until the installation is in `state` with nothing left in its queue. */
export function settledIn(stack: TestStack, orgId: string, state: InstallationStateName, timeoutMs = 60_000): Promise<InstallationView> {
  let last: InstallationView | undefined;
  return eventually(
    () => `${orgId} to settle in ${state} (last: ${last ? `${last.state}, ${last.pendingEvents} pending` : 'no workflow'})`,
    async () => {
      last = await installation(stack, orgId);
      return last && last.state === state && last.pendingEvents === 0 ? last : undefined;
    },
    timeoutMs,
  );
}

export interface EmulatorTenant {
  tenantId: string;
  orgId: string;
  integrationId: string;
  enabled: boolean;
  streamsEnabled: boolean;
  configuration: Record<string, unknown>;
  createCount: number;
  createAttempts: number;
}

export interface EmulatorDelivery {
  id: string;
  kind: 'config-audit' | 'lifecycle';
  url: string;
  status: 'delivered' | 'failed' | 'pending' | 'paused';
  attempts: number;
  responses: Array<number | 'error' | 'timeout'>;
  body: Record<string, unknown>;
}

export interface EmulatorSnapshot {
  tenants: EmulatorTenant[];
  tenantCreateCounts: Record<string, { createCount: number; createAttempts: number }>;
  crmConnections: Array<{ tenantId: string; crmEndpoint: string }>;
  archives: Array<{ orgId: string; integrationId: string; tenantId: string }>;
  alerts: Array<{ body: { text: string; kind?: string; details?: Record<string, unknown> } }>;
  installations: Array<{ orgId: string; integrationId: string; tenantId: string; status: string }>;
  tokens: Array<{ kind: string; orgId?: string; integrationId?: string; revoked?: boolean }>;
  deliveries: EmulatorDelivery[];
}

export function emulatorState(stack: TestStack): Promise<EmulatorSnapshot> {
  return stack.emulator.admin<EmulatorSnapshot>('GET', '/state');
}

export function tenantOf(snapshot: EmulatorSnapshot, tenantId: string): EmulatorTenant | undefined {
  return snapshot.tenants.find((tenant) => tenant.tenantId === tenantId);
}

export async function schemaExists(pool: Pool, tenantId: string): Promise<boolean> {
  const result = await pool.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schemaNameForTenant(tenantId)]);
  return (result.rowCount ?? 0) > 0;
}

/** The lifecycle deliveries the emulator made for one org. */
export function deliveriesFor(snapshot: EmulatorSnapshot, orgId: string): EmulatorDelivery[] {
  return snapshot.deliveries.filter((delivery) => delivery.kind === 'lifecycle' && delivery.body.orgId === orgId);
}

/** Signs like Genesys Cloud: hex HMAC-SHA256 of the raw body, and an ISO event timestamp header. */
export async function postSigned(
  stack: TestStack,
  body: unknown,
  options: { secret?: string; timestamp?: Date; signature?: string; url?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const signature = options.signature ?? createHmac('sha256', options.secret ?? stack.secrets.lifecycle).update(raw).digest('hex');
  const response = await fetch(`${options.url ?? stack.receiversUrl}/v1/genesys/lifecycle`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-genesys-signature': signature,
      'x-genesys-event-timestamp': (options.timestamp ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
    body: raw,
  });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** A lifecycle payload shaped like the seed's example request. */
export function lifecyclePayload(
  stack: TestStack,
  orgId: string,
  event: EmitRequest['event'],
  extra: { tenantId?: string; configuration?: Record<string, unknown>; sequence?: number; eventId?: string; eventTimestamp?: string } = {},
): Record<string, unknown> {
  return {
    ...(extra.eventId ? { eventId: extra.eventId } : {}),
    event,
    integrationId: stack.integrationId,
    orgId,
    tenantId: extra.tenantId ?? `tenant_${orgId}`,
    configuration: extra.configuration ?? { crmEndpoint: 'https://acme.salesforce.com', syncInterval: 'PT5M' },
    eventTimestamp: extra.eventTimestamp ?? new Date().toISOString(),
    metadata: { installedBy: `admin@${orgId}`, source: 'marketplace', ...(extra.sequence === undefined ? {} : { sequence: extra.sequence }) },
  };
}

export function openPool(stack: TestStack): Pool {
  return new Pool({ connectionString: stack.databaseUrl, max: 2 });
}

/**
 * `tollgate worker` in its own process against this stack, as in production (started with `worker: false`, the
 * stack runs none of its own). Resolves once the worker logs that it runs; rejects if it exits before.
 */
export function startWorkerProcess(stack: TestStack): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(__dirname, '..', 'bin', 'tollgate.js'), 'worker'], {
    env: { ...process.env, ...stack.env, LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The pipes are read for the whole life of the child (a full pipe would block its logging); only the tail is kept.
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-10_000);
      if (output.includes('worker running')) resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`worker exited (${signal ?? code}) before it ran: ${output.slice(-2000)}`)));
  });
}

/** A `tollgate worker` child creates the stack's schedules at start-up: they must not outlive the test. */
export async function deleteWorkerSchedules(stack: TestStack): Promise<void> {
  for (const scheduleId of [heartbeatScheduleId(stack.taskQueue), reconciliationScheduleId(stack.taskQueue)]) {
    await stack.client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  }
}

export const CRM = { crmEndpoint: 'https://acme.salesforce.com', syncInterval: 'PT5M', featureFlags: ['voice_routing'] };

/**
 * A TCP pass-through in front of the Temporal server, so one receiver can lose Temporal while the rest of the test
 * keeps it: `down()` cuts every connection and refuses new ones, `stall()` accepts and forwards nothing, `up()`
 * restores.
 */
export async function startTcpProxy(target: string): Promise<{
  address: string;
  up(): void;
  down(): void;
  stall(): void;
  close(): Promise<void>;
}> {
  const net = await import('node:net');
  const [host, portText] = target.split(':');
  let mode: 'up' | 'down' | 'stall' = 'up';
  const sockets = new Set<import('node:net').Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (mode === 'down') {
      client.destroy();
      return;
    }
    if (mode === 'stall') return; // accepted, never answered
    const upstream = net.connect(Number(portText), host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as import('node:net').AddressInfo;
  const cut = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    address: `127.0.0.1:${port}`,
    up: () => {
      mode = 'up';
    },
    down: () => {
      mode = 'down';
      cut();
    },
    stall: () => {
      mode = 'stall';
      cut();
    },
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}
