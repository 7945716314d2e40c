/**
 * `tollgate change …` and `tollgate audit list` as a CI pipeline runs them: `node bin/tollgate.js` child
 * processes, configured only through the environment, against the real stack. What CI relies on is the exit
 * code: 0 only for a change deployed and verified, 1 for any other outcome (with the state and reason), 2 for
 * bad input, 3 for an unknown change.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readObject, seedObject, signAs } from './change-gate-support';
import { useTestStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';
import { sshKeygenPath } from './ssh-keygen';
import { runTollgateCli, type CliRun } from './harness/cli';

const stack = useTestStack();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tollgate-cli-'));
});

type Run = CliRun;

function tollgate(...args: string[]): Promise<Run> {
  return tollgateWithInput(undefined, ...args);
}

/** Runs the CLI with `input` on its standard input (for `--signature -`). Only the environment configures the CLI
 * here; its home (the stack's) holds the sandbox keys (keys/<name>, allowed_signers) and no sandbox.env. */
function tollgateWithInput(input: string | undefined, ...args: string[]): Promise<Run> {
  return runTollgateCli(args, { ...process.env, ...stack.env }, { input });
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
  expect(other.stderr).toMatch(/already used by a different change: fields that differ: greeting\. Submit this payload under a new --change-id/);
  const elsewhere = await tollgate('change', 'submit', '--target', 'ivr/another-menu', '--file', file, '--requester', 'bob', '--change-id', changeId, '--json');
  expect(elsewhere.code).toBe(2);
  expect(elsewhere.json).toMatchObject({ ok: false, code: 'invalid_input', exitCode: 2 });
  expect(elsewhere.json.message).toContain(`target: ivr/${target.id}, not ivr/another-menu; requester: alice, not bob`);

  // Human output, without --json, and a generated ID.
  const text = await tollgate('change', 'submit', '--target', `ivr/${target.id}`, '--file', await desiredFile({ queue: 'support' }), '--requester', 'alice');
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(/change chg-[0-9a-f-]{36} on ivr\//);
  expect(text.stdout).toMatch(/queue: "sales" → "support"/);
});

it('submit and status print the plan as text, as markdown for a pull request (a fenced diff) or as json; status says when the object moved under the plan, and approving a stale plan is refused with stale_plan', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales', menu: { options: [{ key: 1, queue: 'sales' }] } });
  const address = `ivr/${target.id}`;
  const changeId = uniqueId('pr-49');
  const file = await desiredFile({ greeting: 'welcome', menu: { options: [{ key: 1, queue: 'support' }] } });
  const markdown = await tollgate('change', 'submit', '--target', address, '--file', file, '--requester', 'alice', '--change-id', changeId, '--format', 'markdown');
  expect(markdown.code).toBe(0);
  expect(markdown.stdout).toContain(`#### Tollgate change \`${changeId}\` on \`${address}\``);
  expect(markdown.stdout).toContain(`**Plan: 2 to change, 0 to add, 0 to remove.** \`${address}\` at version 1`);
  // The nested change is one line a side, inside a fenced diff block a pull request colours.
  expect(markdown.stdout).toContain('```diff\n- greeting: "hello"\n+ greeting: "welcome"\n- menu.options[0].queue: "sales"\n+ menu.options[0].queue: "support"\n```');

  const json = await tollgate('change', 'status', changeId, '--format', 'json');
  expect(json.code).toBe(0);
  expect(json.json).toMatchObject({ changeId, state: 'awaiting_approval', plan: { target: address, baseVersion: 1, summary: { change: 2, add: 0, remove: 0 } } });
  expect(json.json.plan.moved).toBeUndefined();
  const text = await tollgate('change', 'status', changeId);
  expect(text.stdout).toContain(`Plan: 2 to change, 0 to add, 0 to remove.  ${address} at version 1, payload sha256 ${json.json.plan.payloadHash}`);
  expect(text.stdout).toContain('  ~ menu.options[0].queue: "sales" → "support"');

  // Someone edits a field the plan does not touch: a note, and the plan can still be approved (it is re-merged).
  await stack.emulator.admin('POST', `/objects/ivr/${target.id}/ui-edit`, { user: 'eve', fields: { queue: 'vip' } });
  const moved = await tollgate('change', 'status', changeId);
  expect(moved.stdout).toContain(`Note: ${address} (now version 2, planned on 1) has moved since this plan, in fields it does not touch`);

  // Then a field the plan touches: the plan is stale; the status warns, and an approval is refused with a hint.
  await stack.emulator.admin('POST', `/objects/ivr/${target.id}/ui-edit`, { user: 'eve', fields: { greeting: 'bonjour' } });
  const stale = await tollgate('change', 'status', changeId, '--format', 'markdown');
  expect(stale.stdout).toContain(`> Warning: greeting changed on ${address} (now version 3, planned on 1) since this plan: the plan is stale and approving it is refused (stale_plan)`);
  const refused = await tollgate('change', 'approve', changeId, '--approver', 'bob', '--json');
  expect(refused.code).toBe(1);
  expect(refused.json).toMatchObject({ ok: false, code: 'stale_plan', state: 'awaiting_approval' });
  expect(refused.stderr).toMatch(/refused \(stale_plan\): greeting changed on .* since the plan \(version 1 → 3, last by user eve\): this plan is stale; resubmit the change under a new change ID/);
  const after = await tollgate('change', 'status', changeId, '--json', '--no-live');
  expect(after.json).toMatchObject({ approvals: [], live: { version: 3, changedFields: ['greeting'] }, planView: { moved: { liveVersion: 3, changedFields: ['greeting'] } } });
  expect((await tollgate('change', 'status', changeId, '--format', 'yaml')).code).toBe(2);
});

it('approve takes --key, or an ssh-keygen signature of `change statement`; a refused approval exits 1 with its code; wait exits 0 once deployed and verified', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const changeId = uniqueId('pr-43');
  const submitted = await tollgate('change', 'submit', '--target', `ivr/${target.id}`, '--file', await desiredFile({ greeting: 'welcome' }), '--requester', 'alice', '--change-id', changeId, '--json');
  expect(submitted.code).toBe(0);
  expect(submitted.json.submittedBy).toMatchObject({ requester: 'alice', via: 'signature' });

  // alice's own key (the sandbox default for --approver alice) cannot approve her change.
  const self = await tollgate('change', 'approve', changeId, '--approver', 'alice', '--json');
  expect(self.code).toBe(1);
  expect(self.json).toMatchObject({ ok: false, code: 'self_approval', state: 'awaiting_approval' });

  const statement = await tollgate('change', 'statement', changeId, '--as', 'bob');
  expect(statement.code).toBe(0);
  expect(statement.stdout).toBe(
    `tollgate-statement v1\nnamespace: default\nchange: ${changeId}\nrun: ${submitted.json.runId}\ntarget: ivr/${target.id}\nbase-version: 1\n` +
      `payload-sha256: ${submitted.json.plan.payloadHash}\ndecision: approve\nprincipal: bob\n`,
  );
  // carol's signature of bob's statement, presented as bob.
  const forgedPath = join(dir, `${uniqueId('forged')}.sig`);
  await writeFile(forgedPath, signAs(stack, 'carol', statement.stdout));
  const forged = await tollgate('change', 'approve', changeId, '--approver', 'bob', '--signature', forgedPath, '--json');
  expect(forged.code).toBe(1);
  expect(forged.json.code).toBe('bad_signature');

  const bob = await tollgate('change', 'approve', changeId, '--approver', 'bob', '--key', stack.keyPath('bob'));
  expect(bob.code).toBe(0);
  expect(bob.stdout).toMatch(/approved by bob \(1\/2\)/);

  // carol signs elsewhere with the real ssh-keygen, and CI passes the armored signature.
  const carolStatement = await tollgate('change', 'statement', changeId, '--as', 'carol');
  const statementPath = join(dir, `${uniqueId('statement')}.txt`);
  await writeFile(statementPath, carolStatement.stdout);
  execFileSync(sshKeygenPath(), ['-Y', 'sign', '-n', 'tollgate', '-f', stack.keyPath('carol'), statementPath], { stdio: 'pipe' });
  const carol = await tollgate('change', 'approve', changeId, '--approver', 'carol', '--signature', `${statementPath}.sig`, '--json');
  expect(carol.code).toBe(0);
  expect(carol.json.approvals.map((a: { approver: string; via: string }) => [a.approver, a.via])).toEqual([
    ['bob', 'signature'],
    ['carol', 'signature'],
  ]);

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

it('reject must be signed: a signature read from stdin; an unsigned or blank-named decision is refused', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const changeId = uniqueId('pr-47');
  await tollgate('change', 'submit', '--target', `ivr/${target.id}`, '--file', await desiredFile({ greeting: 'welcome' }), '--requester', 'alice', '--change-id', changeId);
  const blank = await tollgate('change', 'approve', changeId, '--approver', '  ', '--json');
  expect(blank.code).toBe(1);
  expect(blank.json.code).toBe('blank_principal');
  const emptySignature = await tollgateWithInput('', 'change', 'reject', changeId, '--approver', 'bob', '--reason', 'no', '--signature', '-', '--json');
  expect(emptySignature.code).toBe(1);
  expect(emptySignature.json.code).toBe('unsigned');
  const statement = await tollgate('change', 'statement', changeId, '--as', 'dave', '--decision', 'reject', '--json');
  expect(statement.json.statement).toMatch(/\ndecision: reject\nprincipal: dave\n$/);
  const rejected = await tollgateWithInput(signAs(stack, 'dave', statement.json.statement), 'change', 'reject', changeId, '--approver', 'dave', '--reason', 'not today', '--signature', '-');
  expect(rejected.code).toBe(0);
  expect(rejected.stdout).toMatch(/is rejected: by dave: not today/);
});

it('submit --pull-request OWNER/REPO#N --path FILE links the change: no key in CI, the reviews approve it', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const path = `genesys/ivr/${target.id}.json`;
  const content = `${JSON.stringify({ greeting: 'from the pull request' }, null, 2)}\n`;
  const pull = await stack.emulator.admin<{ number: number; headSha: string }>('POST', '/github/repos/acme/config/pulls', { author: 'carol', files: { [path]: content } });
  const file = join(dir, `${uniqueId('pr')}.json`);
  await writeFile(file, content);
  const changeId = uniqueId('pr-48');
  const printed = await tollgate('change', 'submit', '--target', `ivr/${target.id}`, '--file', file, '--requester', 'carol', '--change-id', changeId, '--pull-request', `acme/config#${pull.number}`, '--path', path, '--print-statement');
  expect(printed.stdout).toMatch(new RegExp(`\\npull-request: acme/config#${pull.number}:${path}\\ndecision: submit\\nprincipal: carol\\n$`));
  const submitted = await tollgate('change', 'submit', '--target', `ivr/${target.id}`, '--file', file, '--requester', 'carol', '--change-id', changeId, '--pull-request', `acme/config#${pull.number}`, '--path', path, '--json');
  expect(submitted.code).toBe(0);
  expect(submitted.json).toMatchObject({ state: 'awaiting_approval', submittedBy: { requester: 'carol', via: 'pull_request' }, pullRequest: { plannedCommit: pull.headSha } });
  for (const user of ['alice', 'dave']) await stack.emulator.admin('POST', `/github/repos/acme/config/pulls/${pull.number}/reviews`, { user, state: 'APPROVED' });
  const wait = await tollgate('change', 'wait', changeId, '--timeout', '2m', '--json');
  expect(wait.code).toBe(0);
  expect(wait.json.approvals.map((a: { approver: string; via: string }) => `${a.approver}:${a.via}`)).toEqual(['alice:review', 'dave:review']);
  expect((await tollgate('change', 'submit', '--target', 'ivr/x', '--file', file, '--requester', 'carol', '--pull-request', 'not-a-pr')).code).toBe(2);
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
  expect(wait.stderr).toMatch(/ended rejected: by bob: wrong menu/);
  // The outcome is printed once: on stdout (its JSON document above, or one line), never again on stderr.
  expect(wait.stderr.match(/wrong menu/g)).toHaveLength(1);
  const plain = await tollgate('change', 'wait', changeId);
  expect(plain.code).toBe(1);
  expect(plain.stdout).toBe(`change ${changeId} ended rejected: by bob: wrong menu\n`);
  expect(plain.stderr).not.toContain('wrong menu');

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
