/**
 * Auditing every configuration change: signed `configuration.updated` webhooks through the real receiver, the
 * ledger that tells approved versions from drift, drift alerts and reverts, and the heartbeat that polls when
 * webhooks go quiet. Real Temporal server, worker and receivers; the emulator delivers the webhooks over HTTP.
 */
import { createHmac } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ensureHeartbeatSchedule, heartbeatScheduleId } from '../schedules/heartbeat';
import type { auditWorkflow } from '../workflows/audit';
import type { AuditResult } from '../workflows/audit-messages';
import type { changeWorkflow } from '../workflows/change';
import { auditWorkflowId, changeWorkflowId, revertChangeId, type TargetRef } from '../workflows/workflow-ids';
import { approveBy, auditDeliveries, emulatorState, planned, readObject, seedObject, statusOf, submit, waitForState, type ChangeHandle } from './change-gate-support';
import { changeResult } from '../client/change-gate';
import { useTestStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';

const stack = useTestStack({
  env: {
    TOLLGATE_TARGETS: JSON.stringify({ ivr: { onDrift: 'revert' }, queue: { onDrift: 'alert' } }),
    TOLLGATE_HEARTBEAT_QUIET: '1s',
    TOLLGATE_HEARTBEAT_EVERY: '1h',
  },
});

function auditHandle(target: TargetRef, version: number) {
  return stack.client.workflow.getHandle<typeof auditWorkflow>(auditWorkflowId(target, version));
}

async function auditResult(target: TargetRef, version: number, timeoutMs = 60_000): Promise<AuditResult> {
  return eventually(`audit of ${target.type}/${target.id} v${version}`, async () => auditHandle(target, version).result(), timeoutMs);
}

/** Deploys `desired` onto a fresh object through the gate and waits until its audit is in. */
async function deployedObject(type: string, fields: Record<string, unknown>, desired: Record<string, unknown>) {
  const target = await seedObject(stack, type, fields);
  const handle = await submit(stack, { target, desired, requester: 'alice' });
  await planned(handle);
  await approveBy(stack, handle, ['bob', 'carol']);
  const status = await waitForState(handle, ['audited']);
  return { target, status };
}

async function uiEdit(target: TargetRef, fields: Record<string, unknown>, user = 'eve'): Promise<number> {
  const edited = await stack.emulator.admin<{ version: number }>('POST', `/objects/${target.type}/${target.id}/ui-edit`, { user, fields });
  return edited.version;
}

async function alertsAbout(target: TargetRef) {
  const state = await emulatorState(stack);
  return state.alerts.filter((alert) => alert.body.details?.target === `${target.type}/${target.id}`);
}

describe('Admin Override', () => {
  it('flags a UI edit as drift, alerts, and reverts it to the last approved state where the policy says revert', async () => {
    const { target, status } = await deployedObject('ivr', { greeting: 'hello', queue: 'sales' }, { greeting: 'welcome' });
    expect(status.deploy?.writtenVersion).toBe(2);
    const driftVersion = await uiEdit(target, { greeting: 'free pizza', backdoor: 'on' });

    const audit = await auditResult(target, driftVersion);
    expect(audit).toMatchObject({ verdict: 'drift', source: 'webhook', alerted: true, revertChangeId: revertChangeId(target, driftVersion) });
    const alerts = await alertsAbout(target);
    expect(alerts.map((alert) => alert.body.kind)).toContain('config_drift');
    expect(alerts.find((alert) => alert.body.kind === 'config_drift')?.body.text).toMatch(/changed outside the change gate by user eve/);

    // The revert is a change like any other (lock, deploy, verify, audit), pre-approved by the gate itself.
    const revert = stack.client.workflow.getHandle<typeof changeWorkflow>(changeWorkflowId(audit.revertChangeId!));
    const reverted = await waitForState(revert, ['audited']);
    expect(reverted.approvals).toEqual([expect.objectContaining({ approver: 'tollgate', system: true })]);
    expect(reverted.requester).toBe('tollgate');
    const object = await readObject(stack, target);
    expect(object.fields).toEqual({ greeting: 'welcome', queue: 'sales' });
    expect(object.version).toBe(driftVersion + 1);
  });

  it('only alerts where the policy says alert, and when there is no approved state to revert to', async () => {
    const { target } = await deployedObject('queue', { sla: 20 }, { sla: 30 });
    const driftVersion = await uiEdit(target, { sla: 5 });
    expect(await auditResult(target, driftVersion)).toMatchObject({ verdict: 'drift', alerted: true });
    expect((await auditResult(target, driftVersion)).revertChangeId).toBeUndefined();
    expect((await readObject(stack, target)).fields).toEqual({ sla: 5 });

    // An ivr object (revert policy) never deployed through the gate: nothing approved to go back to.
    const untouched = await seedObject(stack, 'ivr', { greeting: 'hello' });
    const version = await uiEdit(untouched, { greeting: 'hi' });
    const audit = await auditResult(untouched, version);
    expect(audit).toMatchObject({ verdict: 'drift', alerted: true });
    expect(audit.revertChangeId).toBeUndefined();
    expect((await alertsAbout(untouched))[0]?.body.text).toMatch(/no approved state to revert to/);
  });

  it('refuses a pre-approved "system revert" that no audit started', async () => {
    const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
    const changeId = revertChangeId(target, 9);
    const forged = await stack.client.workflow.start('changeWorkflow', {
      workflowId: changeWorkflowId(changeId),
      taskQueue: stack.taskQueue,
      args: [{ changeId, target, desired: { greeting: 'pwned' }, requester: 'mallory', systemRevert: { auditWorkflowId: 'audit:ivr:x:9', driftVersion: 9 } }],
    });
    await expect(forged.result()).rejects.toMatchObject({ cause: { type: 'ChangeFailed' } });
    const status = await changeResult(forged as ChangeHandle);
    expect(status.state).toBe('failed');
    expect(status.stateReason).toMatch(/system_revert_refused/);
    expect((await readObject(stack, target)).fields).toEqual({ greeting: 'hello' });
  });
});

describe('Replay Attacks on the audit webhook', () => {
  const url = () => `${stack.receiversUrl}/webhooks/genesys-config-audit`;

  function event(target: TargetRef, version: number) {
    return JSON.stringify({
      eventId: uniqueId('evt'),
      eventType: 'configuration.updated',
      timestamp: new Date().toISOString(),
      object: { type: target.type, id: target.id, version, lastModifiedTime: new Date().toISOString() },
      modifiedBy: { kind: 'user', id: 'eve' },
    });
  }

  function post(body: string, options: { at?: number; secret?: string } = {}) {
    const timestamp = Math.floor((options.at ?? Date.now()) / 1000);
    const signature = createHmac('sha256', options.secret ?? stack.secrets.configAudit).update(body).digest('hex');
    return fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Genesys-Signature': signature, 'X-Genesys-Event-Timestamp': String(timestamp) },
      body,
    });
  }

  async function nothingStarted(target: TargetRef, version: number): Promise<void> {
    await expect(auditHandle(target, version).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  }

  it('refuses a stale event (captured and replayed later) and starts nothing', async () => {
    const target = { type: 'ivr', id: uniqueId('replay') };
    const response = await post(event(target, 3), { at: Date.now() - 6 * 60_000 });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'stale_or_future_timestamp' });
    await nothingStarted(target, 3);
  });

  it('refuses a future-dated event and starts nothing', async () => {
    const target = { type: 'ivr', id: uniqueId('replay') };
    const response = await post(event(target, 3), { at: Date.now() + 6 * 60_000 });
    expect(response.status).toBe(401);
    await nothingStarted(target, 3);
  });

  it('refuses a bad signature and starts nothing', async () => {
    const target = { type: 'ivr', id: uniqueId('replay') };
    const response = await post(event(target, 3), { secret: 'not-the-webhook-secret' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_signature' });
    await nothingStarted(target, 3);
  });

  it('accepts an event once; the same event re-sent inside the window is a no-op', async () => {
    const target = { type: 'ivr', id: uniqueId('replay') };
    const body = event(target, 3);
    const first = await post(body);
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ status: 'started', workflowId: auditWorkflowId(target, 3) });
    await auditResult(target, 3);
    for (let i = 0; i < 3; i++) {
      const again = await post(body);
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ status: 'duplicate_handled' });
    }
    const runs = [];
    for await (const run of stack.client.workflow.list({ query: `WorkflowId = '${auditWorkflowId(target, 3)}'` })) runs.push(run);
    expect(runs).toHaveLength(1);
  });
});

describe('Edge Case 3', () => {
  afterAll(async () => {
    await stack.emulator.admin('POST', '/webhooks/resume');
    await stack.client.schedule.getHandle(heartbeatScheduleId(stack.taskQueue)).delete().catch(() => undefined);
  });

  it('webhooks paused: the heartbeat finds and audits the change; resumed webhooks do not audit it twice', async () => {
    const scheduleId = await ensureHeartbeatSchedule(stack.client, stack.config, stack.taskQueue);
    expect(scheduleId).toBe(`${stack.taskQueue}:heartbeat`);
    // Idempotent: a second worker starting up updates the same schedule.
    expect(await ensureHeartbeatSchedule(stack.client, stack.config, stack.taskQueue)).toBe(scheduleId);

    await stack.emulator.admin('POST', '/webhooks/pause');
    const target = await seedObject(stack, 'queue', { sla: 20 });
    const handle = await submit(stack, { target, desired: { sla: 25 }, requester: 'alice' });
    await planned(handle);
    await approveBy(stack, handle, ['bob', 'carol']);
    const deployed = await waitForState(handle, ['deployed']);
    const version = deployed.deploy!.writtenVersion!;
    // A human edit during the outage too: it must not slip through unaudited.
    const other = await seedObject(stack, 'queue', { sla: 10 });
    const driftVersion = await uiEdit(other, { sla: 1 });
    expect((await auditDeliveries(stack, target)).map((delivery) => delivery.status)).toEqual(['paused']);

    // The schedule's tick, now rather than in an hour; repeated until the quiet period has passed.
    const schedule = stack.client.schedule.getHandle(scheduleId!);
    const audited = await eventually(
      'the heartbeat to audit the deployed version',
      async () => {
        const status = await statusOf(handle);
        if (status.state === 'audited') return status;
        await schedule.trigger();
        return undefined;
      },
      60_000,
      2_000,
    );
    expect(audited.auditedBy).toBe(auditWorkflowId(target, version));
    expect(await auditResult(target, version)).toMatchObject({ verdict: 'approved', source: 'poll', changeId: deployed.changeId });
    expect(await auditResult(other, driftVersion)).toMatchObject({ verdict: 'drift', source: 'poll', alerted: true });

    // Deliveries resume: the receiver recognises both events as already audited.
    await stack.emulator.admin('POST', '/webhooks/resume');
    for (const object of [target, other]) {
      const deliveries = await eventually(
        'the held deliveries to go out',
        async () => {
          const list = await auditDeliveries(stack, object);
          return list.every((delivery) => delivery.status === 'delivered') && list;
        },
        30_000,
      );
      expect(deliveries.flatMap((delivery) => delivery.responses)).toEqual([200]);
    }
    for (const [object, v] of [
      [target, version],
      [other, driftVersion],
    ] as const) {
      const runs = [];
      for await (const run of stack.client.workflow.list({ query: `WorkflowId = '${auditWorkflowId(object, v)}'` })) runs.push(run);
      expect(runs).toHaveLength(1);
      expect((await auditResult(object, v)).source).toBe('poll');
    }
  });
});
