/**
 * Drift of real Platform API objects, from Genesys Cloud's Audit API (issue 11): a person's save in the UI and
 * another OAuth client's write are flagged with who did it — through the heartbeat's poll of the Audit API with the
 * notification channel off, and through the notification channel with polling slowed; the same change seen both
 * ways is audited once. The poll runs from a cursor stored in PostgreSQL and reaches older ranges through the
 * asynchronous query; the channel follows the protected objects, splits them across channels past the topic limit
 * and renews itself before it expires. Real Temporal, PostgreSQL and the emulator over HTTP and WebSocket.
 */
import { Pool } from 'pg';
import { ensureHeartbeatSchedule, heartbeatScheduleId } from '../schedules/heartbeat';
import type { auditWorkflow } from '../workflows/audit';
import type { AuditResult } from '../workflows/audit-messages';
import type { heartbeatWorkflow } from '../workflows/heartbeat';
import { auditWorkflowId, type TargetRef } from '../workflows/workflow-ids';
import { approveBy, emulatorState, planned, statusOf, submit, waitForState } from './change-gate-support';
import { useTestStack } from './fixtures';
import { createPlatformObject, editOutsideGate, NO_RATE_LIMITS, readPlatformObject } from './genesys-platform-support';
import { eventually, uniqueId, type TestStack } from './harness/stack';

function auditHandle(on: TestStack, target: TargetRef, version: number) {
  return on.client.workflow.getHandle<typeof auditWorkflow>(auditWorkflowId(target, version));
}

async function auditResult(on: TestStack, target: TargetRef, version: number, timeoutMs = 60_000): Promise<AuditResult> {
  return eventually(`audit of ${target.type}/${target.id} v${version}`, async () => auditHandle(on, target, version).result(), timeoutMs);
}

async function auditRuns(on: TestStack, target: TargetRef, version: number): Promise<number> {
  let runs = 0;
  for await (const _run of on.client.workflow.list({ query: `WorkflowId = '${auditWorkflowId(target, version)}'` })) runs += 1;
  return runs;
}

/** A schedule deployed through the gate, so that it is a protected object with an approved state. */
async function deployedSchedule(on: TestStack): Promise<{ target: TargetRef; version: number }> {
  const target = await createPlatformObject(on, 'architect.schedule', { name: uniqueId('schedule'), start: '2026-01-01T08:00:00.000', end: '2026-01-01T18:00:00.000' });
  const handle = await submit(on, { target, desired: { end: '2026-01-01T19:00:00.000' }, requester: 'alice' });
  await planned(handle);
  await approveBy(on, handle, ['bob', 'carol']);
  const status = await waitForState(handle, ['audited', 'deployed', 'failed']);
  expect(status.deploy?.verified).toBe(true);
  return { target, version: status.deploy!.writtenVersion! };
}

async function driftAlert(on: TestStack, target: TargetRef) {
  return eventually('the drift alert', async () => {
    const alerts = (await emulatorState(on)).alerts.filter((alert) => alert.body.kind === 'config_drift' && alert.body.details?.target === `${target.type}/${target.id}`);
    return alerts.length > 0 && alerts;
  });
}

describe('through the Audit API poll, the notification channel off', () => {
  const stack = useTestStack({
    env: {
      TOLLGATE_AUDIT_CHANNEL: 'off',
      TOLLGATE_HEARTBEAT_EVERY: '1h',
      TOLLGATE_HEARTBEAT_QUIET: '1h',
      TOLLGATE_TARGETS: JSON.stringify({ 'routing.queue': { onDrift: 'revert' } }),
    },
    emulatorSettings: NO_RATE_LIMITS,
  });
  let pool: Pool;

  beforeAll(async () => {
    await ensureHeartbeatSchedule(stack.client, stack.config, stack.taskQueue);
    pool = new Pool({ connectionString: stack.databaseUrl, max: 2 });
  });
  afterAll(async () => {
    await stack.client.schedule.getHandle(heartbeatScheduleId(stack.taskQueue)).delete().catch(() => undefined);
    await pool?.end();
  });

  /** The heartbeat's tick, now (the schedule runs hourly here), repeated until `probe` answers. */
  async function pollUntil<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const schedule = stack.client.schedule.getHandle(heartbeatScheduleId(stack.taskQueue));
    return eventually(
      what,
      async () => {
        const value = await probe().catch(() => undefined);
        if (value) return value;
        await schedule.trigger();
        return undefined;
      },
      60_000,
      1_500,
    );
  }

  it('flags a person\'s UI edit as drift, naming them, from the poll', async () => {
    const { target, version } = await deployedSchedule(stack);
    await editOutsideGate(stack, target, { name: 'Holiday hours (edited in the UI)' }, { user: 'Eve Admin' });
    const audit = await pollUntil('the poll to audit the UI edit', () => auditHandle(stack, target, version + 1).result());
    expect(audit).toMatchObject({ verdict: 'drift', source: 'audit_poll', alerted: true });
    expect((await driftAlert(stack, target))[0].body.text).toMatch(/changed outside the change gate by user Eve Admin/);
  });

  it('flags another OAuth client\'s write as drift, naming the client, and our own client used outside the gate too', async () => {
    const { target, version } = await deployedSchedule(stack);
    await editOutsideGate(stack, target, { description: 'set by a script' }, { client: 'ci-bot-client' });
    await editOutsideGate(stack, target, { description: 'set with the gate\'s own credentials' }, { client: stack.config.genesys.clientId });
    const other = await pollUntil('the poll to audit the other client', () => auditHandle(stack, target, version + 1).result());
    expect(other).toMatchObject({ verdict: 'drift', source: 'audit_poll' });
    const ours = await auditResult(stack, target, version + 2);
    expect(ours).toMatchObject({ verdict: 'drift', source: 'audit_poll' });
    const texts = (await driftAlert(stack, target)).map((alert) => alert.body.text);
    expect(texts.some((text) => /by OAuth client ci-bot-client/.test(text ?? ''))).toBe(true);
    expect(texts.some((text) => new RegExp(`by OAuth client ${stack.config.genesys.clientId}`).test(text ?? ''))).toBe(true);
  });

  it('reverts drift on an unversioned queue to the last approved state where the policy says revert', async () => {
    const target = await createPlatformObject(stack, 'routing.queue', { name: uniqueId('queue'), skillEvaluationMethod: 'ALL' });
    const handle = await submit(stack, { target, desired: { skillEvaluationMethod: 'BEST' }, requester: 'alice' });
    await planned(handle);
    await approveBy(stack, handle, ['bob', 'carol']);
    const deployed = await pollUntil('the deploy to be audited', async () => {
      const status = await statusOf(handle);
      return status.state === 'audited' ? status : undefined;
    });
    expect(deployed.deploy?.verified).toBe(true);
    await editOutsideGate(stack, target, { skillEvaluationMethod: 'NONE' }, { user: 'Night Shift' });
    const reverted = await pollUntil('the drift to be reverted', async () => {
      const object = await readPlatformObject(stack, target);
      return object.skillEvaluationMethod === 'BEST' ? object : undefined;
    });
    expect(reverted.skillEvaluationMethod).toBe('BEST');
    const alert = (await driftAlert(stack, target))[0];
    expect(alert.body.text).toMatch(/by user Night Shift; reverting to the last approved state/);
  });

  it('polls from its stored cursor, and reaches a range older than 14 days through the asynchronous query', async () => {
    const target = await createPlatformObject(stack, 'routing.wrapupcode', { name: uniqueId('wrapup') });
    const scope = `${stack.taskQueue}|${stack.config.genesys.apiBase}|${stack.config.genesys.clientId}`;
    // The deployment was down for three weeks: its cursor is 20 days old, and a change was made 18 days ago.
    const eighteenDaysAgo = new Date(Date.now() - 18 * 86_400_000).toISOString();
    await stack.emulator.admin('POST', '/audits', {
      entries: [{ path: `/api/v2/routing/wrapupcodes/${target.id}`, eventDate: eighteenDaysAgo, user: 'Former Admin', propertyChanges: [{ property: 'description', oldValues: [], newValues: ['x'] }] }],
    });
    await pool.query(
      `INSERT INTO tollgate.genesys_audit_cursors (scope, position) VALUES ($1, now() - interval '20 days')
       ON CONFLICT (scope) DO UPDATE SET position = EXCLUDED.position`,
      [scope],
    );
    const requestsBefore = (await stack.emulator.admin<{ requests: unknown[] }>('GET', '/requests')).requests.length;
    const old = await pollUntil('the old change to be audited', () => auditHandle(stack, target, Date.parse(eighteenDaysAgo)).result());
    expect(old).toMatchObject({ verdict: 'drift', source: 'audit_poll' });
    const requests = (await stack.emulator.admin<{ requests: { method: string; path: string }[] }>('GET', '/requests')).requests.slice(requestsBefore);
    expect(requests.some((request) => request.method === 'POST' && request.path === '/api/v2/audits/query')).toBe(true);
    expect(requests.some((request) => request.method === 'GET' && /^\/api\/v2\/audits\/query\/[^/]+\/results$/.test(request.path))).toBe(true);
    // The cursor moved on to the time of that poll.
    const cursor = await eventually('the cursor to move', async () => {
      const { rows } = await pool.query<{ position: Date }>('SELECT position FROM tollgate.genesys_audit_cursors WHERE scope = $1', [scope]);
      return rows[0] && Date.now() - rows[0].position.getTime() < 60_000 ? rows[0].position : undefined;
    });
    expect(cursor.getTime()).toBeLessThanOrEqual(Date.now());
  });
});

describe('through the notification channel, polling slowed', () => {
  const stack = useTestStack({
    auditChannel: true,
    env: {
      TOLLGATE_HEARTBEAT_EVERY: '1h',
      TOLLGATE_HEARTBEAT_QUIET: '1h',
      TOLLGATE_CHANNEL_REFRESH: '300ms',
      TOLLGATE_CHANNEL_TOPIC_LIMIT: '2',
    },
    // A channel lives 4 s here unless renewed: the listener must keep subscribing.
    emulatorSettings: { ...NO_RATE_LIMITS, channelTtlSeconds: 4 },
  });

  beforeAll(async () => {
    await ensureHeartbeatSchedule(stack.client, stack.config, stack.taskQueue);
  });
  afterAll(async () => {
    await stack.client.schedule.getHandle(heartbeatScheduleId(stack.taskQueue)).delete().catch(() => undefined);
  });

  async function subscribed(target: TargetRef): Promise<void> {
    await eventually(`a channel subscribed to ${target.id}`, async () => {
      const channels = (await emulatorState(stack)).channels as { topics: string[]; connections: number }[];
      return channels.some((channel) => channel.connections > 0 && channel.topics.some((topic) => topic.endsWith(`.entityid.${target.id}`)));
    });
  }

  it('flags a person\'s UI edit and another client\'s write as drift, naming who, from pushed events', async () => {
    const { target, version } = await deployedSchedule(stack);
    await subscribed(target);
    await editOutsideGate(stack, target, { name: 'edited live' }, { user: 'Pat Planner' });
    expect(await auditResult(stack, target, version + 1, 20_000)).toMatchObject({ verdict: 'drift', source: 'channel', alerted: true });
    await editOutsideGate(stack, target, { description: 'scripted' }, { client: 'partner-integration' });
    expect(await auditResult(stack, target, version + 2, 20_000)).toMatchObject({ verdict: 'drift', source: 'channel' });
    const texts = (await driftAlert(stack, target)).map((alert) => alert.body.text ?? '');
    expect(texts.some((text) => /by user Pat Planner/.test(text))).toBe(true);
    expect(texts.some((text) => /by OAuth client partner-integration/.test(text))).toBe(true);
  });

  it('audits a change seen both ways — pushed, then found again by the poll — once', async () => {
    const { target, version } = await deployedSchedule(stack);
    await subscribed(target);
    await editOutsideGate(stack, target, { name: 'seen twice' }, { user: 'Eve Admin' });
    expect(await auditResult(stack, target, version + 1, 20_000)).toMatchObject({ source: 'channel' });
    const schedule = stack.client.schedule.getHandle(heartbeatScheduleId(stack.taskQueue));
    const before = (await schedule.describe()).info.recentActions.length;
    await schedule.trigger();
    await eventually('the poll to run', async () => (await schedule.describe()).info.recentActions.length > before, 30_000);
    // The poll found the same change and recognised it as already audited.
    const polled = await eventually('the triggered heartbeat to finish', async () => {
      const last = (await schedule.describe()).info.recentActions.at(-1);
      if (!last) return undefined;
      const run = stack.client.workflow.getHandle<typeof heartbeatWorkflow>(last.action.workflow.workflowId, last.action.workflow.firstExecutionRunId);
      return (await run.describe()).status.name === 'COMPLETED' ? run.result() : undefined;
    }, 30_000);
    expect(polled.auditTrail?.alreadyAudited).toBeGreaterThanOrEqual(1);
    expect(await auditRuns(stack, target, version + 1)).toBe(1);
    expect((await auditResult(stack, target, version + 1)).source).toBe('channel');
  });

  it('splits topics across channels past the topic limit, and keeps the channels alive past their lifetime', async () => {
    const targets = [];
    for (let i = 0; i < 3; i++) targets.push((await deployedSchedule(stack)).target);
    for (const target of targets) await subscribed(target);
    const channels = (await emulatorState(stack)).channels as { id: string; topics: string[] }[];
    expect(channels.length).toBeGreaterThanOrEqual(2);
    expect(channels.every((channel) => channel.topics.length <= 2)).toBe(true);
    const ids = channels.map((channel) => channel.id).sort();
    // Twice the channels' 4 s lifetime later, the same channels are alive and still push.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    const later = ((await emulatorState(stack)).channels as { id: string }[]).map((channel) => channel.id).sort();
    expect(later).toEqual(ids);
    const last = targets[2];
    const current = (await readPlatformObject(stack, last)).version as number;
    await editOutsideGate(stack, last, { name: 'still listening' }, { user: 'Eve Admin' });
    expect(await auditResult(stack, last, current + 1, 20_000)).toMatchObject({ source: 'channel' });
  });
});
