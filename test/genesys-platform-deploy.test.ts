/**
 * Real Genesys Cloud objects through the gate (issue 11): for every supported target type, submit → approve → deploy
 * → read back → audited, under the type's version rule (Architect objects and users: the current version; queues,
 * wrap-up codes and data table rows: none, with Tollgate's own guard); a 409 and a 400 version conflict both re-merge;
 * an unversioned queue changed by a person between plan and write ends diverged; a write the platform acknowledges
 * and forgets is rolled back; a person's edit between write and read-back is kept and named; a slow write that lands
 * after it was given up on is the gate's own version, never drift. Real Temporal, PostgreSQL and the emulator over
 * HTTP; audits come from the Audit API poll of the heartbeat schedule.
 */
import { join } from 'node:path';
import { checkLiveObject } from '../client/change-gate';
import { ensureHeartbeatSchedule, heartbeatScheduleId } from '../schedules/heartbeat';
import type { auditWorkflow } from '../workflows/audit';
import type { AuditResult } from '../workflows/audit-messages';
import { auditWorkflowId, type TargetRef } from '../workflows/workflow-ids';
import { activityInFlight, approveBy, approveThenMeanwhile, emulatorState, planned, submit, targetSnapshot, waitForState } from './change-gate-support';
import { useTestStack } from './fixtures';
import { createPlatformObject, editOutsideGate, NO_RATE_LIMITS, platformPath, readPlatformObject, storedPlatformObject } from './genesys-platform-support';
import { eventually, uniqueId, type TestStack } from './harness/stack';
import { REPO_ROOT, runTollgateCli, type CliRun } from './harness/cli';


const stack = useTestStack({
  env: { TOLLGATE_HEARTBEAT_EVERY: '1s', TOLLGATE_HEARTBEAT_QUIET: '1h' },
  emulatorSettings: NO_RATE_LIMITS,
});

beforeAll(async () => {
  await ensureHeartbeatSchedule(stack.client, stack.config, stack.taskQueue);
});

afterAll(async () => {
  await stack.client.schedule.getHandle(heartbeatScheduleId(stack.taskQueue)).delete().catch(() => undefined);
});

afterEach(async () => {
  await stack.emulator.admin('DELETE', '/faults');
});

async function auditResult(on: TestStack, workflowId: string): Promise<AuditResult> {
  return eventually(`audit ${workflowId}`, async () => on.client.workflow.getHandle<typeof auditWorkflow>(workflowId).result(), 60_000);
}

async function deployThroughGate(on: TestStack, target: TargetRef, desired: Record<string, unknown>) {
  const handle = await submit(on, { target, desired, requester: 'alice' });
  const plan = (await planned(handle)).plan!;
  await approveBy(on, handle, ['bob', 'carol']);
  return { handle, plan };
}

const now = () => Date.now();
const TYPES: { type: string; create: () => Record<string, unknown>; desired: Record<string, unknown>; versioned: boolean }[] = [
  { type: 'architect.ivr', create: () => ({ name: uniqueId('ivr'), dnis: ['+13175550100'], description: 'old' }), desired: { description: 'after-hours menu' }, versioned: true },
  {
    type: 'architect.schedule',
    create: () => ({ name: uniqueId('schedule'), start: '2026-01-01T08:00:00.000', end: '2026-01-01T18:00:00.000', rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR' }),
    desired: { end: '2026-01-01T20:00:00.000' },
    versioned: true,
  },
  { type: 'architect.schedulegroup', create: () => ({ name: uniqueId('group'), timeZone: 'Europe/Paris' }), desired: { timeZone: 'America/Chicago' }, versioned: true },
  { type: 'architect.emergencygroup', create: () => ({ name: uniqueId('emergency'), enabled: false }), desired: { enabled: true }, versioned: true },
  { type: 'routing.queue', create: () => ({ name: uniqueId('queue'), description: 'sales', skillEvaluationMethod: 'ALL' }), desired: { skillEvaluationMethod: 'BEST' }, versioned: false },
  { type: 'routing.wrapupcode', create: () => ({ name: uniqueId('wrapup'), description: 'old' }), desired: { description: 'Resolved on first contact' }, versioned: false },
  { type: 'datatable.row', create: () => ({ key: `Paris office ${now()}`, open: true, hours: '08-18' }), desired: { open: false }, versioned: false },
  { type: 'user', create: () => ({ name: 'Ada Agent', email: `${uniqueId('ada')}@example.com`, divisionId: 'home', acdAutoAnswer: false }), desired: { acdAutoAnswer: true }, versioned: true },
];

describe.each(TYPES)('$type', ({ type, create, desired, versioned }) => {
  it(`submit → approve → deploy → read back → audited, ${versioned ? 'sending the current version' : 'with Tollgate\'s own guard (no version)'}`, async () => {
    const target = await createPlatformObject(stack, type, create());
    const before = await readPlatformObject(stack, target);
    const { handle, plan } = await deployThroughGate(stack, target, desired);
    expect(plan.versionRule).toBe(versioned ? 'current' : 'none');
    expect(plan.lock).toMatch(versioned ? /current version/ : /no optimistic lock/);
    // Server-managed fields never enter a plan.
    for (const field of ['id', 'version', 'dateModified', 'modifiedBy', 'selfUri', 'key']) expect(plan.baseFields).not.toHaveProperty(field);

    const status = await waitForState(handle, ['audited', 'failed', 'diverged', 'rolled_back']);
    expect(status.state).toBe('audited');
    expect(status.deploy?.verified).toBe(true);
    const after = await readPlatformObject(stack, target);
    expect(after).toMatchObject(desired);
    if (versioned) {
      expect(status.deploy).toMatchObject({ preDeployVersion: before.version, writtenVersion: (before.version as number) + 1 });
      expect(after.version).toBe((before.version as number) + 1);
      expect(status.auditedBy).toBe(auditWorkflowId(target, (before.version as number) + 1));
    } else {
      expect(after).not.toHaveProperty('version');
    }
    const audit = await auditResult(stack, status.auditedBy!);
    expect(audit).toMatchObject({ verdict: 'approved', source: 'audit_poll', changeId: status.changeId });
  });
});

it('refuses a change of a user field that is not routing-related, writing nothing', async () => {
  const target = await createPlatformObject(stack, 'user', { name: 'Bob Agent', email: `${uniqueId('bob')}@example.com`, divisionId: 'home' });
  const handle = await submit(stack, { target, desired: { email: 'attacker@example.com' }, requester: 'alice' });
  const status = await waitForState(handle, ['failed', 'awaiting_approval']);
  expect(status.state).toBe('failed');
  expect(status.stateReason).toMatch(/may set only acdAutoAnswer, groups, locations; not email/);
  expect((await readPlatformObject(stack, target)).email).not.toBe('attacker@example.com');
});

describe("a user's groups (expand-only: GET /api/v2/users/{id} shows them only with expand=groups,locations)", () => {
  const group = (n: number) => ({ id: `6a1f0000-0000-4000-8000-00000000000${n}`, selfUri: `/api/v2/groups/6a1f0000-0000-4000-8000-00000000000${n}` });
  const createGrouped = () =>
    createPlatformObject(stack, 'user', { name: 'Gina Grouped', email: `${uniqueId('gina')}@example.com`, divisionId: 'home', acdAutoAnswer: false, groups: [group(1)] });

  it('a change of groups plans against the live groups, deploys, reads back verified and is audited', async () => {
    const target = await createGrouped();
    // The platform's default answer leaves them out: only an expanded read can plan, check or verify them.
    expect(await readPlatformObject(stack, target, { plain: true })).not.toHaveProperty('groups');
    const desired = { groups: [group(1), group(2)] };
    const { handle, plan } = await deployThroughGate(stack, target, desired);
    expect(plan.baseFields).toMatchObject({ groups: [group(1)] });
    expect(plan.diff).toEqual([expect.objectContaining({ field: 'groups' })]);

    const status = await waitForState(handle, ['audited', 'failed', 'diverged', 'rolled_back']);
    expect(status.state).toBe('audited');
    expect(status.deploy).toMatchObject({ verified: true, preDeployVersion: 1, writtenVersion: 2 });
    expect(await readPlatformObject(stack, target)).toMatchObject({ ...desired, version: 2 });
    const audit = await auditResult(stack, status.auditedBy!);
    expect(audit).toMatchObject({ verdict: 'approved', changeId: status.changeId });
  });

  it("the live check sees a person's edit of groups after the plan", async () => {
    const target = await createGrouped();
    const handle = await submit(stack, { target, desired: { groups: [group(1), group(2)] }, requester: 'alice' });
    const { changeId } = await planned(handle);
    await editOutsideGate(stack, target, { groups: [group(3)] }, { user: 'Gail Manager' });
    expect(await checkLiveObject(stack.client, changeId)).toMatchObject({ version: 2, changedFields: ['groups'] });
    await handle.terminate('test done').catch(() => undefined);
  });
});

describe.each([
  { variant: 409, type: 'architect.schedule', create: () => ({ name: uniqueId('schedule'), start: '2026-01-01T08:00:00.000', end: '2026-01-01T18:00:00.000' }) },
  { variant: 400, type: 'architect.ivr', create: () => ({ name: uniqueId('ivr'), description: 'old' }) },
])('a $variant version conflict', ({ variant, type, create }) => {
  it('waits, re-reads, re-merges and lands; the person\'s change to another field survives', async () => {
    await stack.emulator.admin('PUT', `/conflicts/${type}`, { status: variant });
    try {
      const target = await createPlatformObject(stack, type, create());
      const handle = await submit(stack, { target, desired: { description: 'merged by the gate' }, requester: 'alice' });
      await planned(handle);
      // Our PUT is held back while a person saves another field: it then carries a stale version.
      await stack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: platformPath(target), latencyMs: 1500, count: 1 });
      await approveBy(stack, handle, ['bob', 'carol']);
      await activityInFlight(handle, 'writeConfigObject');
      await editOutsideGate(stack, target, { name: `renamed ${variant}` });
      const status = await waitForState(handle, ['audited', 'failed', 'diverged']);
      expect(status.state).toBe('audited');
      expect(status.deploy).toMatchObject({ conflictsRetried: 1, preDeployVersion: 1, writtenVersion: 3 });
      expect(await readPlatformObject(stack, target)).toMatchObject({ description: 'merged by the gate', name: `renamed ${variant}`, version: 3 });
      const refused = (await stack.emulator.admin<{ requests: { method: string; path: string; status: number }[] }>('GET', '/requests')).requests.filter(
        (request) => request.method === 'PUT' && request.path === platformPath(target),
      );
      expect(refused.map((request) => request.status)).toEqual([variant, 200]);
    } finally {
      await stack.emulator.admin('PUT', `/conflicts/${type}`, { status: 409 });
    }
  });
});

it('an unversioned queue changed by a person between approval and write: the deploy stops as diverged, writing nothing', async () => {
  const target = await createPlatformObject(stack, 'routing.queue', { name: uniqueId('queue'), description: 'sales', skillEvaluationMethod: 'ALL' });
  const handle = await submit(stack, { target, desired: { skillEvaluationMethod: 'BEST' }, requester: 'alice' });
  const { plan } = await planned(handle);
  expect(plan!.lock).toMatch(/the platform offers no optimistic lock for routing.queue/);
  // After the approvals, before the deploy reads it (an edit before the approvals makes the plan stale instead).
  await approveThenMeanwhile(stack, handle, ['bob', 'carol'], platformPath(target), () =>
    editOutsideGate(stack, target, { skillEvaluationMethod: 'NONE' }, { user: 'Queue Manager' }),
  );
  const status = await waitForState(handle, ['diverged', 'audited', 'failed']);
  expect(status.state).toBe('diverged');
  expect(status.divergedFields).toEqual(['skillEvaluationMethod']);
  expect(await readPlatformObject(stack, target)).toMatchObject({ skillEvaluationMethod: 'NONE' });
  const puts = (await stack.emulator.admin<{ requests: { method: string; path: string }[] }>('GET', '/requests')).requests.filter(
    (request) => request.method === 'PUT' && request.path === platformPath(target),
  );
  expect(puts).toEqual([]);
});

it('a write answered 200 and never applied fails the read-back, is rolled back, and `change wait` exits 1', async () => {
  const target = await createPlatformObject(stack, 'architect.emergencygroup', { name: uniqueId('emergency'), enabled: false, description: 'standby' });
  const handle = await submit(stack, { target, desired: { enabled: true }, requester: 'alice' });
  const { changeId } = await planned(handle);
  await stack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: platformPath(target), discardWrite: true, count: 1 });
  await approveBy(stack, handle, ['bob', 'carol']);
  const status = await waitForState(handle, ['rolled_back', 'failed', 'diverged', 'audited']);
  expect(status.state).toBe('rolled_back');
  expect(status.stateReason).toMatch(/read-back mismatch.*enabled/);
  expect(await readPlatformObject(stack, target)).toMatchObject({ enabled: false, version: 1 });
  expect((await targetSnapshot(stack, target)).ledger).toEqual([]);
  const wait = await tollgate(stack, ['change', 'wait', changeId, '--timeout', '1m', '--json']);
  expect(wait.code).toBe(1);
  expect(JSON.parse(wait.stdout)).toMatchObject({ ok: false, state: 'rolled_back' });
});

it("a person's edit of a deployed field between the write and the read-back survives; the change ends diverged naming them", async () => {
  const target = await createPlatformObject(stack, 'routing.wrapupcode', { name: uniqueId('wrapup'), description: 'old' });
  const handle = await submit(stack, { target, desired: { description: 'new by the gate', name: 'Resolved' }, requester: 'alice' });
  const { changeId } = await planned(handle);
  await stack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: platformPath(target), latencyMs: 800, count: 1 });
  await approveBy(stack, handle, ['bob', 'carol']);
  await activityInFlight(handle, 'writeConfigObject');
  await stack.emulator.admin('POST', '/faults', { method: 'GET', pathPrefix: platformPath(target), latencyMs: 2500, count: 1 });
  await eventually('our write to land', async () => (await storedPlatformObject(stack, target))?.name === 'Resolved', 10_000, 25);
  await editOutsideGate(stack, target, { description: 'what the supervisor wants' }, { user: 'Sam Supervisor' });

  const status = await waitForState(handle, ['diverged', 'rolled_back', 'failed', 'audited']);
  expect(status.state).toBe('diverged');
  expect(status.divergedFields).toEqual(['description']);
  expect(status.divergedBy).toBe('user Sam Supervisor');
  // Sam's description stays; the gate's rename is rolled back.
  expect(await readPlatformObject(stack, target)).toMatchObject({ description: 'what the supervisor wants', name: expect.stringMatching(/^wrapup-/) });
  const alerts = (await emulatorState(stack)).alerts.filter((alert) => alert.body.details?.changeId === changeId);
  expect(alerts.find((alert) => alert.body.kind === 'change_diverged')?.body.text).toMatch(/description changed by user Sam Supervisor/);
});

describe('a write whose outcome was unknown and that landed later', () => {
  const slow = useTestStack({
    env: {
      GENESYS_TIMEOUT: '1s',
      TOLLGATE_HEARTBEAT_EVERY: '1s',
      TOLLGATE_HEARTBEAT_QUIET: '1h',
      TOLLGATE_TARGETS: JSON.stringify({ 'architect.schedulegroup': { onDrift: 'revert' } }),
    },
    emulatorSettings: NO_RATE_LIMITS,
  });

  beforeAll(async () => {
    await ensureHeartbeatSchedule(slow.client, slow.config, slow.taskQueue);
  });
  afterAll(async () => {
    await slow.client.schedule.getHandle(heartbeatScheduleId(slow.taskQueue)).delete().catch(() => undefined);
  });

  it('is recorded as the gate\'s own version: the change reports it written, and its audit is not drift', async () => {
    const target = await createPlatformObject(slow, 'architect.schedulegroup', { name: uniqueId('group'), timeZone: 'Europe/Paris' });
    const handle = await submit(slow, { target, desired: { timeZone: 'Asia/Tokyo' }, requester: 'alice' });
    await planned(handle);
    // Our PUT outlives the client's 1 s timeout and lands at 1.5 s; the settling read (at ~1 s) still sees the old
    // object; the next PUT is slowed enough to be refused (409) by the version the slow one produced.
    const first = await slow.emulator.admin<{ id: string }>('POST', '/faults', { method: 'PUT', pathPrefix: platformPath(target), latencyMs: 1500, count: 1 });
    await approveBy(slow, handle, ['bob', 'carol']);
    await eventually(
      'the first PUT to be held',
      async () => (await emulatorState(slow)).faults && ((await emulatorState(slow)).faults as { id: string; hits: number }[]).some((fault) => fault.id === first.id && fault.hits === 1),
      10_000,
      10,
    );
    await slow.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: platformPath(target), latencyMs: 700, count: 1 });

    const status = await waitForState(handle, ['audited', 'failed', 'diverged', 'rolled_back', 'cancelled']);
    expect(status.stateReason).not.toMatch(/already_in_effect/);
    expect(status.state).toBe('audited');
    // The second PUT met the version the slow one had produced (409), and the re-read recognised our own write.
    expect(status.deploy).toMatchObject({ writtenVersion: 2, verified: true, conflictsRetried: 1 });
    const audit = await auditResult(slow, auditWorkflowId(target, 2));
    expect(audit).toMatchObject({ verdict: 'approved', changeId: status.changeId });
    expect(audit.revertChangeId).toBeUndefined();
    expect(await readPlatformObject(slow, target)).toMatchObject({ timeZone: 'Asia/Tokyo', version: 2 });
  });
});

/** Runs `node bin/tollgate.js …` against a stack, as CI would. */
function tollgate(on: TestStack, args: string[]): Promise<CliRun> {
  return runTollgateCli(args, { ...process.env, ...on.env, TOLLGATE_HOME: join(REPO_ROOT, '.tollgate', 'no-sandbox-env') });
}
