/**
 * Approvals from pull-request reviews, verified by the worker (seed 000: "Two senior architects review the PR").
 * The emulator plays GitHub: its REST API (read by the worker with its own token) and its signed webhooks to
 * `POST /webhooks/github` on the receivers. A review counts only when it approves the head commit the change was
 * planned from, by someone other than the author, who maps to an approver; a lost webhook only delays, because
 * the change re-reads the pull request periodically. Real Temporal server, real worker, receivers over HTTP.
 */
import { createHmac } from 'node:crypto';
import { changeResult, refusalOf, submitChange } from '../client/change-gate';
import { changeWorkflowId, type TargetRef } from '../workflows/workflow-ids';
import {
  approve,
  emulatorState,
  planned,
  readObject,
  seedObject,
  signAs,
  statementOf,
  statusOf,
  submit,
  waitForState,
  type ChangeHandle,
} from './change-gate-support';
import { useTestStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';

const REPO = 'acme/genesys-config';
const stack = useTestStack({
  env: {
    // The safety net, short enough for a test; the webhook makes it sooner.
    TOLLGATE_PULL_REQUEST_RECHECK_EVERY: '3s',
    TOLLGATE_GITHUB_REPOSITORIES: REPO,
  },
});

interface OpenedPull {
  number: number;
  headSha: string;
  path: string;
  target: TargetRef;
}

function fileOf(fields: Record<string, unknown>): string {
  return `${JSON.stringify(fields, null, 2)}\n`;
}

async function openPullRequest(author: string, fields: Record<string, unknown>): Promise<OpenedPull> {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello', queue: 'sales' });
  const path = `genesys/${target.type}/${target.id}.json`;
  const opened = await stack.emulator.admin<{ number: number; headSha: string }>('POST', `/github/repos/${REPO}/pulls`, { author, files: { [path]: fileOf(fields) } });
  // The `opened` webhook has been answered before any change is linked, so it can never poke one later.
  await eventually('the opened webhook to be answered', async () =>
    (await githubDeliveries()).some((delivery) => delivery.body?.pull_request?.number === opened.number && delivery.body.action === 'opened' && delivery.status !== 'pending'),
  );
  return { ...opened, path, target };
}

async function review(pull: OpenedPull, user: string, state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED', commitId?: string): Promise<{ id: number }> {
  return stack.emulator.admin('POST', `/github/repos/${REPO}/pulls/${pull.number}/reviews`, { user, state, ...(commitId ? { commitId } : {}) });
}

async function push(pull: OpenedPull, fields: Record<string, unknown>): Promise<string> {
  const pushed = await stack.emulator.admin<{ headSha: string }>('POST', `/github/repos/${REPO}/pulls/${pull.number}/commits`, { files: { [pull.path]: fileOf(fields) } });
  pull.headSha = pushed.headSha;
  return pushed.headSha;
}

/** Submits as the CI job does: linked to the pull request, no key (the pull request proves its author). */
async function submitLinked(pull: OpenedPull, fields: Record<string, unknown>, requester = 'alice'): Promise<ChangeHandle> {
  return submit(stack, { target: pull.target, desired: fields, requester, pullRequest: { repository: REPO, number: pull.number, path: pull.path } });
}

/** How many `pullRequestChanged` signals (from the receivers) reached the change. */
async function pokes(handle: ChangeHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'pullRequestChanged').length;
}

async function githubDeliveries() {
  return (await emulatorState(stack)).deliveries.filter((delivery) => delivery.kind === 'github');
}

async function notCounted(handle: ChangeHandle, expected: number) {
  return eventually(`${expected} uncounted reviews on ${handle.workflowId}`, async () => {
    const status = await statusOf(handle);
    return (status.pullRequest?.notCounted.length ?? 0) >= expected ? status : undefined;
  });
}

describe('approvals from pull-request reviews', () => {
  it('deploys after two approving reviews on the head commit by non-authors; the author, an older commit and a dismissed review do not count', async () => {
    const pull = await openPullRequest('alice', { greeting: 'welcome' });
    const olderCommit = pull.headSha;
    await review(pull, 'bob', 'APPROVED'); // on the first commit
    const fields = { greeting: 'welcome back' };
    await push(pull, fields);
    const handle = await submitLinked(pull, fields);
    const status = await planned(handle);
    expect(status.state).toBe('awaiting_approval');
    expect(status.submittedBy).toEqual({ requester: 'alice', via: 'pull_request' });
    expect(status.pullRequest).toMatchObject({ repository: REPO, number: pull.number, author: 'alice', plannedCommit: pull.headSha, state: 'open' });

    await review(pull, 'alice', 'APPROVED'); // the author
    const dave = await review(pull, 'dave', 'APPROVED');
    await stack.emulator.admin('POST', `/github/repos/${REPO}/pulls/${pull.number}/reviews/${dave.id}/dismiss`, {});
    await review(pull, 'carol', 'APPROVED');
    const partly = await eventually('carol counted, the others not', async () => {
      const current = await statusOf(handle);
      return current.approvals.length === 1 && current.pullRequest!.notCounted.length === 3 ? current : undefined;
    });
    expect(partly.state).toBe('awaiting_approval');
    expect(partly.approvals).toEqual([
      expect.objectContaining({ approver: 'carol', via: 'review', review: expect.objectContaining({ login: 'carol', commitId: pull.headSha }) }),
    ]);
    expect(partly.pullRequest!.notCounted.map(({ login, reason }) => [login, reason]).sort()).toEqual([
      ['alice', 'author'],
      ['bob', 'older_commit'],
      ['dave', 'dismissed'],
    ]);
    expect((await readObject(stack, pull.target)).version).toBe(1);
    expect(olderCommit).not.toBe(pull.headSha);

    await review(pull, 'bob', 'APPROVED'); // bob again, now on the head commit
    const deployed = await waitForState(handle, ['deployed', 'audited']);
    expect(deployed.deploy).toMatchObject({ verified: true, writtenVersion: 2 });
    expect(deployed.approvals.map((approval) => [approval.approver, approval.via])).toEqual([
      ['carol', 'review'],
      ['bob', 'review'],
    ]);
    expect((await readObject(stack, pull.target)).fields).toEqual({ greeting: 'welcome back', queue: 'sales' });
    // The reviews reached the change through the signed webhook and the receivers.
    const deliveries = (await githubDeliveries()).filter((delivery) => delivery.body?.pull_request?.number === pull.number);
    expect(deliveries.filter((delivery) => delivery.body.action === 'submitted').every((delivery) => delivery.responses[0] === 202)).toBe(true);
    expect(await pokes(handle)).toBeGreaterThan(0);
  });

  it('refuses a webhook with a bad X-Hub-Signature-256 with 401, and nothing changes', async () => {
    const pull = await openPullRequest('alice', { greeting: 'hola' });
    const handle = await submitLinked(pull, { greeting: 'hola' });
    await planned(handle);
    await eventually('the first read of the pull request', async () => (await statusOf(handle)).pullRequest?.lastCheckedAt);
    const before = await pokes(handle);
    const body = JSON.stringify({ action: 'submitted', review: { state: 'approved', user: { login: 'bob' } }, pull_request: { number: pull.number }, repository: { full_name: REPO } });
    const send = (headers: Record<string, string>) =>
      fetch(`${stack.receiversUrl}/webhooks/github`, { method: 'POST', headers: { 'content-type': 'application/json', 'X-GitHub-Event': 'pull_request_review', ...headers }, body });
    const forged = await send({ 'X-Hub-Signature-256': `sha256=${createHmac('sha256', 'not-the-secret').update(body).digest('hex')}` });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: 'invalid_signature' });
    const unsigned = await send({});
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ error: 'missing_signature' });
    expect(await pokes(handle)).toBe(before);
    // Correctly signed, the same body only makes the worker read GitHub again: the webhook's content is not an approval.
    const signed = await send({ 'X-Hub-Signature-256': `sha256=${createHmac('sha256', stack.secrets.githubWebhook).update(body).digest('hex')}` });
    expect(signed.status).toBe(202);
    expect(await signed.json()).toMatchObject({ status: 'rechecking', pullRequest: `${REPO}#${pull.number}`, changes: [handle.workflowId] });
    await eventually('the poke', async () => (await pokes(handle)) > before);
    const status = await statusOf(handle);
    expect(status.approvals).toEqual([]);
    expect(status.state).toBe('awaiting_approval');
  });

  it('approves through the periodic re-check when the webhook never arrives', async () => {
    const pull = await openPullRequest('alice', { greeting: 'bonjour' });
    const handle = await submitLinked(pull, { greeting: 'bonjour' });
    await planned(handle);
    await stack.emulator.admin('POST', '/webhooks/pause');
    try {
      await review(pull, 'bob', 'APPROVED');
      await review(pull, 'dave', 'APPROVED');
      const deployed = await waitForState(handle, ['deployed', 'audited']);
      expect(deployed.approvals.map((approval) => approval.approver).sort()).toEqual(['bob', 'dave']);
      // No webhook reached the change: the re-check found the reviews.
      expect(await pokes(handle)).toBe(0);
      expect((await githubDeliveries()).filter((delivery) => delivery.body?.pull_request?.number === pull.number && delivery.body.action === 'submitted').map((delivery) => delivery.status)).toEqual(['paused', 'paused']);
    } finally {
      await stack.emulator.admin('POST', '/webhooks/resume');
    }
  });

  it('ends the change rejected, naming the reviewer, when an approver requests changes', async () => {
    const pull = await openPullRequest('alice', { greeting: 'hallo' });
    const handle = await submitLinked(pull, { greeting: 'hallo' });
    await planned(handle);
    await review(pull, 'bob', 'APPROVED');
    await review(pull, 'carol', 'CHANGES_REQUESTED');
    const status = await handle.result();
    expect(status.state).toBe('rejected');
    expect(status.stateReason).toBe(`by carol (carol): changes requested on ${REPO}#${pull.number}`);
    expect(status.rejection).toMatchObject({ by: 'carol', via: 'review' });
    expect((await readObject(stack, pull.target)).version).toBe(1);
  });

  it('ends the change withdrawn when the pull request is closed, and superseded when a new commit is pushed', async () => {
    const closed = await openPullRequest('alice', { greeting: 'ciao' });
    const closedChange = await submitLinked(closed, { greeting: 'ciao' });
    await planned(closedChange);
    await stack.emulator.admin('POST', `/github/repos/${REPO}/pulls/${closed.number}/close`, {});
    expect((await closedChange.result()).stateReason).toBe(`withdrawn: pull request ${REPO}#${closed.number} was closed without merging`);

    const pushed = await openPullRequest('alice', { greeting: 'hej' });
    const pushedChange = await submitLinked(pushed, { greeting: 'hej' });
    await planned(pushedChange);
    await review(pushed, 'bob', 'APPROVED');
    await push(pushed, { greeting: 'hej hej' });
    const status = await pushedChange.result();
    expect(status.state).toBe('cancelled');
    expect(status.stateReason).toMatch(/^superseded: .* a new push is a new change$/);
  });

  it('refuses a linked submission the pull request does not prove', async () => {
    const pull = await openPullRequest('alice', { greeting: 'salut' });
    const link = { repository: REPO, number: pull.number, path: pull.path };
    const cases: Array<[Parameters<typeof submitChange>[2], string]> = [
      [{ changeId: uniqueId('chg'), target: pull.target, desired: { greeting: 'not what the PR holds' }, requester: 'alice', pullRequest: link }, 'pull_request_mismatch'],
      [{ changeId: uniqueId('chg'), target: pull.target, desired: { greeting: 'salut' }, requester: 'bob', pullRequest: link }, 'requester_mismatch'],
      [{ changeId: uniqueId('chg'), target: { type: 'ivr', id: 'main-menu' }, desired: { greeting: 'salut' }, requester: 'alice', pullRequest: link }, 'path_mismatch'],
      [{ changeId: uniqueId('chg'), target: pull.target, desired: { greeting: 'salut' }, requester: 'alice', pullRequest: { ...link, number: 9999 } }, 'pull_request_not_found'],
      [{ changeId: uniqueId('chg'), target: pull.target, desired: { greeting: 'salut' }, requester: 'alice', pullRequest: { ...link, repository: 'mallory/own-repo' } }, 'repository_not_allowed'],
    ];
    for (const [input, code] of cases) {
      const status = await (await submitChange(stack.client, stack.taskQueue, input)).result();
      expect([code, status.state]).toEqual([code, 'refused']);
      expect(status.stateReason).toMatch(new RegExp(`^${code}: `));
    }
  });
});

describe('the pull-request author', () => {
  it("Holding every secret the CI job holds, a pull-request author cannot get a change deployed without two other people's private keys or two other people's reviews", async () => {
    // alice opens a pull request; the CI job submits it. The job holds the Temporal connection, the repository's
    // CI token (github-actions[bot]) and, being alice's, anything alice holds — her own SSH key included.
    const fields = { greeting: 'free calls for everyone' };
    const pull = await openPullRequest('alice', fields);
    const handle = await submitLinked(pull, fields);
    expect((await planned(handle)).state).toBe('awaiting_approval');
    const attempts: string[] = [];
    const refused = async (what: string, attempt: Promise<unknown>) => {
      const code = await attempt.then(
        () => 'accepted',
        (error: unknown) => refusalOf(error)?.code ?? String(error),
      );
      attempts.push(`${what}: ${code}`);
    };

    // Reviews she can give: her own, and the CI bot's.
    await review(pull, 'alice', 'APPROVED');
    await review(pull, 'github-actions[bot]', 'APPROVED');
    await notCounted(handle, 2);
    // Signatures she can make: her own key, as herself and as two colleagues.
    await refused('alice approves with her own key', approve(stack, handle, 'alice'));
    await refused('alice signs as bob', approve(stack, handle, 'bob', { signedBy: 'alice' }));
    await refused('alice signs as carol', approve(stack, handle, 'carol', { signedBy: 'alice' }));
    // bob's real signature, from an earlier change he approved, replayed.
    const earlier = await submit(stack, { target: (await openPullRequest('dave', { a: 1 })).target, desired: { greeting: 'earlier' }, requester: 'dave' });
    await planned(earlier);
    const bobsEarlier = await statementOf(earlier, 'bob');
    await refused('bob\'s signature of another change, replayed', approve(stack, handle, 'bob', { statement: bobsEarlier, signature: signAs(stack, 'bob', bobsEarlier) }));
    // A webhook, even one signed with the receivers' secret, that claims two approvals.
    const claim = JSON.stringify({ action: 'submitted', review: { state: 'approved', user: { login: 'bob' } }, pull_request: { number: pull.number }, repository: { full_name: REPO } });
    const poked = await fetch(`${stack.receiversUrl}/webhooks/github`, {
      method: 'POST',
      headers: { 'X-GitHub-Event': 'pull_request_review', 'X-Hub-Signature-256': `sha256=${createHmac('sha256', stack.secrets.githubWebhook).update(claim).digest('hex')}` },
      body: claim,
    });
    expect(poked.status).toBe(202);
    // A change of her own that claims to be a pre-approved system revert, and one that claims bob requested it.
    const revertId = uniqueId('revert-attempt');
    const revert = await stack.client.workflow.start('changeWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: changeWorkflowId(revertId),
      args: [{ changeId: revertId, target: pull.target, desired: fields, requester: 'tollgate', systemRevert: { auditWorkflowId: `audit:ivr:${pull.target.id}:9`, driftVersion: 9 } }],
    });
    const asBob = await submit(stack, { target: pull.target, desired: fields, requester: 'bob' }, { signedBy: 'alice' });

    expect(attempts).toEqual([
      'alice approves with her own key: self_approval',
      'alice signs as bob: bad_signature',
      'alice signs as carol: bad_signature',
      "bob's signature of another change, replayed: wrong_change",
    ]);
    // A refused system revert ends `failed`: the workflow fails (an operator should look), its status in the failure.
    await expect(revert.result()).rejects.toMatchObject({ cause: { type: 'ChangeFailed' } });
    expect((await changeResult(revert as ChangeHandle)).stateReason).toMatch(/^system_revert_refused/);
    expect((await asBob.result()).stateReason).toMatch(/^bad_signature/);
    const after = await notCounted(handle, 2);
    expect(after.approvals).toEqual([]);
    expect(after.pullRequest!.notCounted.map(({ login, reason }) => `${login}: ${reason}`).sort()).toEqual(['alice: author', 'github-actions[bot]: unknown_login']);
    expect(after.state).toBe('awaiting_approval');
    expect((await readObject(stack, pull.target)).version).toBe(1);

    // Two other people's reviews on the head commit: deployed.
    await review(pull, 'bob', 'APPROVED');
    await review(pull, 'carol', 'APPROVED');
    expect((await waitForState(handle, ['deployed', 'audited'])).deploy?.verified).toBe(true);
    expect((await readObject(stack, pull.target)).fields.greeting).toBe(fields.greeting);

    // Or two other people's private keys: deployed.
    const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
    const signed = await submit(stack, { target, desired: { greeting: 'signed' }, requester: 'alice' });
    await planned(signed);
    await approve(stack, signed, 'bob');
    await approve(stack, signed, 'dave');
    expect((await waitForState(signed, ['deployed', 'audited'])).deploy?.verified).toBe(true);
  });
});
