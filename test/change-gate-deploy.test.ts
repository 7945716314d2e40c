/**
 * Deploying approved changes: optimistic locking with re-read and re-merge, the per-object lock, divergence,
 * read-back verification with rollback, token refresh during a long deploy, and exactly-once writes across a
 * worker crash. Real Temporal server, real worker and receivers, the emulator over HTTP; races are staged with
 * the emulator's latency faults, never with sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TargetRef } from '../workflows/workflow-ids';
import {
  activityInFlight,
  approveBy,
  approveThenMeanwhile,
  auditDeliveries,
  emulatorState,
  planned,
  readObject,
  seedObject,
  statusOf,
  submit,
  targetSnapshot,
  waitForState,
  type ChangeHandle,
} from './change-gate-support';
import { useTestStack } from './fixtures';
import { eventually, startTestStack, type TestStack } from './harness/stack';
import { REPO_ROOT, runTollgateCli, type CliRun } from './harness/cli';

const ROOT = REPO_ROOT;

const stack = useTestStack({
    env: { TOLLGATE_TARGETS: JSON.stringify({ flow: { versionRule: 'current', onDrift: 'alert' } }) },
  });

afterEach(async () => {
  await stack.emulator.admin('DELETE', '/faults');
});

const objectPath = (target: TargetRef) => `/api/v2/configuration/${target.type}/${target.id}`;

/** The object as the emulator stores it, read through the admin API (which faults never touch). */
async function stored(target: TargetRef) {
  const state = await emulatorState(stack);
  return (state.objects as { id: string; type: string; version: number; modifiedBy?: { kind: string } }[]).find(
    (object) => object.id === target.id && object.type === target.type,
  );
}

/** Results of one activity type, decoded from the change's history. */
async function activityResults(handle: ChangeHandle, activityType: string): Promise<Record<string, unknown>[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const types = new Map<string, string>();
  for (const event of events) {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) types.set(String(event.eventId), name);
  }
  return events
    .filter((event) => types.get(String(event.activityTaskCompletedEventAttributes?.scheduledEventId)) === activityType)
    .map((event) => JSON.parse(Buffer.from(event.activityTaskCompletedEventAttributes!.result!.payloads![0].data!).toString('utf8')));
}

async function approvedChange(target: TargetRef, desired: Record<string, unknown>): Promise<ChangeHandle> {
  const handle = await submit(stack, { target, desired, requester: 'alice' });
  await planned(handle);
  return handle;
}

/** Runs `node bin/tollgate.js …` against this stack, as CI would. */
function tollgate(args: string[]): Promise<CliRun> {
  return runTollgateCli(args, { ...process.env, ...stack.env, TOLLGATE_HOME: join(REPO_ROOT, '.tollgate', 'no-sandbox-env') });
}

it('Version Control Ignorance: a stale version gets 409, and the deploy waits, re-reads, re-merges and succeeds', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales' });
  const handle = await approvedChange(target, { greeting: 'welcome' });
  // Hold our PUT back long enough for a human to save in the UI between our read and our write.
  await stack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: objectPath(target), latencyMs: 1500, count: 1 });
  await approveBy(stack, handle, ['bob', 'carol']);
  await activityInFlight(handle, 'writeConfigObject');
  await stack.emulator.admin('POST', `/objects/${target.type}/${target.id}/ui-edit`, { user: 'eve', fields: { queue: 'support' } });

  const status = await waitForState(handle, ['audited']);
  expect(status.deploy?.conflictsRetried).toBe(1);
  expect(status.deploy?.verified).toBe(true);
  // Written as version 3 (after the UI's version 2): the UI's change to a field the plan did not touch survives.
  expect(status.deploy?.writtenVersion).toBe(3);
  const object = await readObject(stack, target);
  expect(object.version).toBe(3);
  expect(object.fields).toEqual({ greeting: 'welcome', queue: 'support' });
});

it('writes with the Genesys-native version rule (send the current version) where the target type says so', async () => {
  await stack.emulator.admin('PUT', '/types/flow', { versionRule: 'current' });
  const target = await seedObject(stack, 'flow', { entry: 'menu-a' }, 4);
  const handle = await approvedChange(target, { entry: 'menu-b' });
  await approveBy(stack, handle, ['bob', 'carol']);
  const status = await waitForState(handle, ['audited']);
  expect(status.deploy).toMatchObject({ preDeployVersion: 4, writtenVersion: 5, conflictsRetried: 0 });
  expect((await readObject(stack, target)).fields).toEqual({ entry: 'menu-b' });
});

it('stops as diverged when someone changed a field the change touches after the approval and before the deploy, writing nothing', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales' });
  const handle = await approvedChange(target, { greeting: 'welcome' });
  // (The same edit before the approvals makes the plan stale: the approvals are refused, stale_plan.)
  await approveThenMeanwhile(stack, handle, ['bob', 'carol'], objectPath(target), () =>
    stack.emulator.admin('POST', `/objects/${target.type}/${target.id}/ui-edit`, { user: 'eve', fields: { greeting: 'bonjour' } }),
  );
  const status = await waitForState(handle, ['diverged', 'audited', 'failed']);
  expect(status.state).toBe('diverged');
  expect(status.divergedFields).toEqual(['greeting']);
  const object = await readObject(stack, target);
  expect(object.version).toBe(2);
  expect(object.fields).toEqual({ greeting: 'bonjour', queue: 'sales' });
  // The lock was released: the object's next change is not blocked. (The target applies a release after reading the
  // change's own deployOutcome, issue 19: a moment after the change reports its state.)
  await eventually('the lock released', async () => (await targetSnapshot(stack, target)).holder === undefined);
});

it('Silent Failures in CI/CD: a write answered 200 but never applied fails the read-back, is rolled back, and `change wait` exits non-zero', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales' });
  const handle = await approvedChange(target, { greeting: 'welcome' });
  const changeId = (await statusOf(handle)).changeId;
  // The platform acknowledges our write (200, with the object it says it made) and forgets it.
  await stack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: objectPath(target), discardWrite: true, count: 1 });
  await approveBy(stack, handle, ['bob', 'carol']);

  const status = await waitForState(handle, ['rolled_back', 'failed', 'diverged', 'audited']);
  expect(status.state).toBe('rolled_back');
  expect(status.deploy).toMatchObject({ writtenVersion: 2, verified: false, rollback: { verified: true } });
  expect(status.stateReason).toMatch(/read-back mismatch.*greeting/);
  const object = await readObject(stack, target);
  expect(object).toMatchObject({ version: 1, fields: { greeting: 'hello', queue: 'sales' } });
  // The version the answer named was never ours: the ledger does not claim it.
  expect((await targetSnapshot(stack, target)).ledger).toEqual([]);
  const alerts = (await emulatorState(stack)).alerts.filter((alert) => alert.body.details?.changeId === changeId);
  expect(alerts.map((alert) => alert.body.kind)).toContain('change_rolled_back');

  const wait = await tollgate(['change', 'wait', changeId, '--timeout', '1m', '--json']);
  expect(wait.code).toBe(1);
  expect(JSON.parse(wait.stdout)).toMatchObject({ ok: false, state: 'rolled_back' });
  expect(wait.stderr).toMatch(/rolled_back/);
});

it("a person's edit of a deployed field between the write and the read-back survives: the change ends diverged, naming them", async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales', menu: 'a' });
  const handle = await approvedChange(target, { greeting: 'welcome', menu: 'b' });
  const changeId = (await statusOf(handle)).changeId;
  // Our write lands; before the read-back is answered (it is slowed down), a person saves a field we just wrote.
  await stack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: objectPath(target), latencyMs: 1000, count: 1 });
  await approveBy(stack, handle, ['bob', 'carol']);
  await activityInFlight(handle, 'writeConfigObject');
  await stack.emulator.admin('POST', '/faults', { method: 'GET', pathPrefix: objectPath(target), latencyMs: 2500, count: 1 });
  await eventually('our write to land', async () => (await stored(target))?.version === 2, 10_000, 25);
  await stack.emulator.admin('POST', `/objects/${target.type}/${target.id}/ui-edit`, { user: 'eve', fields: { greeting: 'good evening' } });

  const status = await waitForState(handle, ['rolled_back', 'failed', 'diverged', 'audited']);
  expect(status.state).toBe('diverged');
  expect(status.divergedFields).toEqual(['greeting']);
  expect(status.divergedBy).toBe('user eve');
  expect(status.stateReason).toMatch(/greeting changed by user eve after the gate's write; their edit is kept/);
  // Eve's greeting stays; the gate's other field goes back to what it was before the write.
  const object = await readObject(stack, target);
  expect(object.fields).toEqual({ greeting: 'good evening', queue: 'sales', menu: 'a' });
  expect(status.deploy).toMatchObject({ writtenVersion: 2, verified: false, rollback: { version: 4, verified: true } });
  const alerts = (await emulatorState(stack)).alerts.filter((alert) => alert.body.details?.changeId === changeId);
  expect(alerts.map((alert) => alert.body.kind)).toContain('change_diverged');
  expect((await tollgate(['change', 'wait', changeId, '--timeout', '1m'])).code).toBe(1);
});

it('Edge Case 1: 20 approved changes to one object at once all land, in order, none lost, no untouched field overwritten', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales' });
  const handles = await Promise.all(Array.from({ length: 20 }, (_, i) => approvedChange(target, { [`option${i}`]: `press ${i}` })));
  await Promise.all(handles.map((handle) => approveBy(stack, handle, ['bob', 'carol'])));
  const statuses = await Promise.all(handles.map((handle) => waitForState(handle, ['audited'], 170_000)));

  const written = statuses.map((status) => status.deploy!.writtenVersion!).sort((a, b) => a - b);
  expect(written).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
  const object = await readObject(stack, target);
  expect(object.version).toBe(21);
  expect(object.fields).toEqual({
    greeting: 'hello',
    queue: 'sales',
    ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`option${i}`, `press ${i}`])),
  });
  // The ledger holds exactly the 20 versions the deploys produced, each with its change.
  const ledger = (await targetSnapshot(stack, target)).ledger;
  expect(ledger.map((entry) => entry.version).sort((a, b) => a - b)).toEqual(written);
  expect(new Set(ledger.map((entry) => entry.changeId)).size).toBe(20);
}, 180_000);

it('settles a write whose answer was lost by reading: it had landed, so it is not sent again', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const handle = await approvedChange(target, { greeting: 'welcome' });
  await stack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: objectPath(target), dropResponse: true, count: 1 });
  await approveBy(stack, handle, ['bob', 'carol']);
  const status = await waitForState(handle, ['audited']);
  expect(status.deploy).toMatchObject({ writtenVersion: 2, verified: true });
  expect((await readObject(stack, target)).version).toBe(2);
  expect(await activityResults(handle, 'settleUnknownWrite')).toEqual([expect.objectContaining({ outcome: 'landed' })]);
  expect((await auditDeliveries(stack, target)).map((delivery) => delivery.body.object.version)).toEqual([2]);
});

it('settles a write whose connection dropped before it was applied by reading, then writes it', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const handle = await approvedChange(target, { greeting: 'welcome' });
  await stack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: objectPath(target), drop: true, count: 1 });
  await approveBy(stack, handle, ['bob', 'carol']);
  const status = await waitForState(handle, ['audited']);
  expect(status.deploy).toMatchObject({ writtenVersion: 2, verified: true });
  expect(await activityResults(handle, 'settleUnknownWrite')).toEqual([expect.objectContaining({ outcome: 'not_applied' })]);
  expect((await readObject(stack, target)).fields).toEqual({ greeting: 'welcome' });
});

it('Edge Case 2: a token lifetime shorter than the deploy: it refreshes and completes', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const handle = await approvedChange(target, { greeting: 'welcome' });
  const tokensBefore = await accessTokens();
  // Tokens live 2 s; the deploy takes longer (each call is slowed), and halfway all tokens are revoked too.
  await stack.emulator.admin('POST', '/settings', { tokenTtlSeconds: 2 });
  try {
    // Six slowed calls: each approval's live check (a read), then the deploy's read, write, read-back and one more.
    await stack.emulator.admin('POST', '/faults', { pathPrefix: objectPath(target), latencyMs: 1200, count: 6 });
    await approveBy(stack, handle, ['bob', 'carol']);
    await activityInFlight(handle, 'writeConfigObject');
    await stack.emulator.admin('POST', '/tokens/expire');
    const status = await waitForState(handle, ['audited', 'deployed', 'failed', 'rolled_back']);
    expect(status.state).toMatch(/^(audited|deployed)$/);
    expect(status.deploy?.verified).toBe(true);
    // The deploy outlived a token: one issued while it ran had expired before it was verified.
    const deploying = Date.parse(status.timestamps.deploying!);
    const deployed = Date.parse(status.timestamps.deployed!);
    const issuedDuringDeploy = (await accessTokens()).slice(tokensBefore.length);
    expect(issuedDuringDeploy.length).toBeGreaterThanOrEqual(2);
    expect(issuedDuringDeploy.some((token) => Date.parse(token.issuedAt) >= deploying && Date.parse(token.expiresAt) <= deployed)).toBe(true);
    expect((await readObject(stack, target)).fields).toEqual({ greeting: 'welcome' });
  } finally {
    await stack.emulator.admin('POST', '/settings', { tokenTtlSeconds: 3600 });
  }

  async function accessTokens(): Promise<{ issuedAt: string; expiresAt: string }[]> {
    const tokens = (await emulatorState(stack)).tokens as { kind: string; issuedAt: string; expiresAt: string }[];
    return tokens.filter((token) => token.kind === 'access');
  }
});

describe('a worker killed mid-deploy', () => {
  let crashStack: TestStack;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    crashStack = await startTestStack({ worker: false });
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await crashStack?.close();
  });

  it('finishes the deploy exactly once on the next worker', async () => {
    // The first worker runs in its own process, so that it can die the hard way (SIGKILL).
    child = spawn(process.execPath, ['-r', 'tsx/cjs', join(__dirname, 'change-gate-worker-process.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...crashStack.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child!.once('exit', (code) => reject(new Error(`worker process exited early (${code})`)));
    });

    const target = { type: 'ivr', id: `crash-${Date.now()}` };
    await crashStack.emulator.admin('PUT', `/objects/ivr/${target.id}`, { greeting: 'hello', version: 1 });
    const handle = await submit(crashStack, { target, desired: { greeting: 'welcome' }, requester: 'alice' });
    await waitForState(handle, ['awaiting_approval'], 60_000);
    // The worker dies after its write landed and before it could report it: the PUT is held back a moment, the
    // worker process is frozen (SIGSTOP: no heartbeat, no report) while the emulator applies the write, then killed.
    await crashStack.emulator.admin('POST', '/faults', { method: 'PUT', pathPrefix: objectPath(target), latencyMs: 1000, count: 1 });
    await approveBy(crashStack, handle, ['bob', 'carol']);
    await activityInFlight(handle, 'writeConfigObject');
    // Frozen only once the PUT has reached the emulator (the fault's hit), not merely once the activity started: the
    // worker takes a request-budget permit before it sends, and a worker frozen before sending would never write.
    await eventually(
      'the PUT to reach the emulator',
      async () => (await crashStack.emulator.admin<{ faults: { hits: number }[] }>('GET', '/state')).faults.some((fault) => fault.hits > 0),
      30_000,
      10,
    );
    child.kill('SIGSTOP');
    await eventually(
      'the write to land',
      async () => {
        const objects = (await crashStack.emulator.admin<{ objects: { id: string; version: number }[] }>('GET', '/state')).objects;
        return objects.find((object) => object.id === target.id)?.version === 2;
      },
      10_000,
      50,
    );
    child.kill('SIGKILL');

    await crashStack.worker.start();
    const status = await waitForState(handle, ['audited', 'failed', 'rolled_back', 'diverged'], 120_000);
    expect(status.state).toBe('audited');
    // Exactly one write: version 1 → 2, one configuration.updated event, one ledger entry.
    expect(status.deploy?.writtenVersion).toBe(2);
    const object = await crashStack.genesys.getObject(target.type, target.id);
    expect(object.version).toBe(2);
    expect(object.greeting).toBe('welcome');
    expect((await auditDeliveries(crashStack, target)).map((delivery) => delivery.body.object.version)).toEqual([2]);
    expect((await targetSnapshot(crashStack, target)).ledger.map((entry) => entry.version)).toEqual([2]);
    // The retried write met a 409 and recognised it as its own earlier attempt, rather than writing again.
    expect(await activityResults(handle, 'writeConfigObject')).toEqual([expect.objectContaining({ outcome: 'written', recognisedEarlierAttempt: true })]);
  }, 180_000);
});
