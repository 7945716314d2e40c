/**
 * `tollgate change …` and `tollgate audit list` as a CI pipeline runs them: `node bin/tollgate.js` child
 * processes, configured only through the environment, against the real stack. What CI relies on is the exit
 * code: 0 only for a change deployed and verified, 1 for any other outcome (with the state and reason), 2 for
 * bad input, 3 for an unknown change.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signApproval } from '../approvals/approval-hmac';
import { readObject, seedObject } from './change-gate-support';
import { useTestStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';

const ROOT = join(__dirname, '..');
const stack = useTestStack();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tollgate-cli-'));
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: any;
}

function tollgate(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/tollgate.js'), ...args], {
      cwd: ROOT,
      // Only the environment configures the CLI here (no .tollgate/sandbox.env in this home).
      env: { ...process.env, ...stack.env, TOLLGATE_HOME: dir },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

async function desiredFile(fields: Record<string, unknown>): Promise<string> {
  const path = join(dir, `${uniqueId('desired')}.json`);
  await writeFile(path, JSON.stringify(fields));
  return path;
}

it('submit prints the ID and the plan; the same --change-id again is the same change; another payload under it is refused', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales' });
  const changeId = uniqueId('pr-42');
  const file = await desiredFile({ greeting: 'welcome' });
  const first = await tollgate('change', 'submit', '--target', `ivr/${target.id}`, '--file', file, '--requester', 'alice', '--change-id', changeId, '--json');
  expect(first.code).toBe(0);
  expect(first.json).toMatchObject({ changeId, workflowId: `change:${changeId}`, state: 'awaiting_approval' });
  expect(first.json.plan.diff).toEqual([{ field: 'greeting', from: 'hello', to: 'welcome' }]);
  expect(first.json.plan.payloadHash).toMatch(/^[0-9a-f]{64}$/);

  const again = await tollgate('change', 'submit', '--target', `ivr/${target.id}`, '--file', file, '--requester', 'alice', '--change-id', changeId, '--json');
  expect(again.code).toBe(0);
  expect(again.json.plan.payloadHash).toBe(first.json.plan.payloadHash);

  const other = await tollgate('change', 'submit', '--target', `ivr/${target.id}`, '--file', await desiredFile({ greeting: 'x' }), '--requester', 'alice', '--change-id', changeId);
  expect(other.code).toBe(2);
  expect(other.stderr).toMatch(/already used by a different change/);

  // Human output, without --json, and a generated ID.
  const text = await tollgate('change', 'submit', '--target', `ivr/${target.id}`, '--file', await desiredFile({ queue: 'support' }), '--requester', 'alice');
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(/change chg-[0-9a-f-]{36} on ivr\//);
  expect(text.stdout).toMatch(/queue: "sales" → "support"/);
});

it('approve signs with TOLLGATE_APPROVAL_KEY; a refused approval exits 1 with its code; wait exits 0 once deployed and verified', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const changeId = uniqueId('pr-43');
  const submitted = await tollgate('change', 'submit', '--target', `ivr/${target.id}`, '--file', await desiredFile({ greeting: 'welcome' }), '--requester', 'alice', '--change-id', changeId, '--json');
  expect(submitted.code).toBe(0);

  const self = await tollgate('change', 'approve', changeId, '--approver', 'alice', '--json');
  expect(self.code).toBe(1);
  expect(self.json).toMatchObject({ ok: false, code: 'self_approval', state: 'awaiting_approval' });

  const forged = await tollgate('change', 'approve', changeId, '--approver', 'bob', '--signature', 'ab'.repeat(32), '--json');
  expect(forged.code).toBe(1);
  expect(forged.json.code).toBe('bad_signature');

  const bob = await tollgate('change', 'approve', changeId, '--approver', 'bob');
  expect(bob.code).toBe(0);
  expect(bob.stdout).toMatch(/approved by bob \(1\/2\)/);
  // A signature made elsewhere (e.g. by an approval bot holding the key) is accepted as is.
  const hash = submitted.json.plan.payloadHash as string;
  const carol = await tollgate('change', 'approve', changeId, '--approver', 'carol', '--signature', signApproval(stack.secrets.approvalKey, changeId, hash, 'carol'), '--json');
  expect(carol.code).toBe(0);

  const wait = await tollgate('change', 'wait', changeId, '--timeout', '2m', '--json');
  expect(wait.code).toBe(0);
  expect(wait.json).toMatchObject({ ok: true, deploy: { verified: true, writtenVersion: 2 } });
  expect(['deployed', 'audited']).toContain(wait.json.state);
  expect(wait.stderr).toMatch(/verified at version 2/);

  const status = await tollgate('change', 'status', changeId, '--json');
  expect(status.code).toBe(0);
  expect(status.json.approvals.map((a: { approver: string }) => a.approver)).toEqual(['bob', 'carol']);

  const late = await tollgate('change', 'approve', changeId, '--approver', 'dave', '--json');
  expect(late.code).toBe(1);
  expect(late.json.code).toBe('not_awaiting_approval');
});

it('reject ends the change, and wait exits 1 with the state and the reason', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const changeId = uniqueId('pr-44');
  await tollgate('change', 'submit', '--target', `ivr/${target.id}`, '--file', await desiredFile({ greeting: 'welcome' }), '--requester', 'alice', '--change-id', changeId);
  const rejected = await tollgate('change', 'reject', changeId, '--approver', 'bob', '--reason', 'wrong menu');
  expect(rejected.code).toBe(0);
  const wait = await tollgate('change', 'wait', changeId, '--json');
  expect(wait.code).toBe(1);
  expect(wait.json).toMatchObject({ ok: false, state: 'rejected' });
  expect(wait.stderr).toMatch(/rejected by bob: wrong menu/);

  const list = await tollgate('change', 'list', '--state', 'rejected', '--json');
  expect(list.code).toBe(0);
  expect(list.json.map((row: { changeId: string }) => row.changeId)).toContain(changeId);
});

it('wait times out with exit 1 while approvals are missing; unknown IDs exit 3; bad input exits 2', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const changeId = uniqueId('pr-45');
  await tollgate('change', 'submit', '--target', `ivr/${target.id}`, '--file', await desiredFile({ greeting: 'welcome' }), '--requester', 'alice', '--change-id', changeId);
  const wait = await tollgate('change', 'wait', changeId, '--timeout', '1s', '--json');
  expect(wait.code).toBe(1);
  expect(wait.json).toMatchObject({ ok: false, timedOut: true, state: 'awaiting_approval' });

  expect((await tollgate('change', 'status', uniqueId('nope'))).code).toBe(3);
  expect((await tollgate('change', 'submit', '--target', 'no-slash', '--file', '/nonexistent', '--requester', 'alice')).code).toBe(2);
  expect((await tollgate('change', 'submit', '--target', 'ivr/x', '--file', await desiredFile({ version: 3 }), '--requester', 'alice')).code).toBe(2);
  expect((await tollgate('change', 'submit', '--target', 'ivr/x', '--file', await desiredFile({ a: 1 }), '--requester', 'alice', '--change-id', 'revert-ivr-x-3')).code).toBe(2);
});

it('rollback submits a new change that restores the pre-deploy fields, through the same approvals', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales' });
  const changeId = uniqueId('pr-46');
  await tollgate('change', 'submit', '--target', `ivr/${target.id}`, '--file', await desiredFile({ greeting: 'welcome', promo: 'spring' }), '--requester', 'alice', '--change-id', changeId);
  await tollgate('change', 'approve', changeId, '--approver', 'bob');
  await tollgate('change', 'approve', changeId, '--approver', 'carol');
  expect((await tollgate('change', 'wait', changeId)).code).toBe(0);

  const rollback = await tollgate('change', 'rollback', changeId, '--requester', 'dave', '--json');
  expect(rollback.code).toBe(0);
  expect(rollback.json).toMatchObject({ changeId: `rollback-${changeId}`, rollbackOf: changeId, state: 'awaiting_approval' });
  expect(rollback.json.plan.diff).toEqual([
    { field: 'greeting', from: 'welcome', to: 'hello' },
    { field: 'promo', from: 'spring' },
  ]);
  await tollgate('change', 'approve', `rollback-${changeId}`, '--approver', 'bob');
  await tollgate('change', 'approve', `rollback-${changeId}`, '--approver', 'carol');
  expect((await tollgate('change', 'wait', `rollback-${changeId}`)).code).toBe(0);
  expect((await readObject(stack, target)).fields).toEqual({ greeting: 'hello', queue: 'sales' });
});

it('audit list --drift shows a UI edit', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  await stack.emulator.admin('POST', `/objects/ivr/${target.id}/ui-edit`, { user: 'eve', fields: { greeting: 'hi' } });
  const list = await eventually(
    'the drift to be listed',
    async () => {
      const run = await tollgate('audit', 'list', '--drift', '--target', `ivr/${target.id}`, '--json');
      return run.json?.length ? run : undefined;
    },
    30_000,
    500,
  );
  expect(list.code).toBe(0);
  expect(list.json[0]).toMatchObject({ target: `ivr/${target.id}`, version: 2, verdict: 'drift', source: 'webhook' });
});
