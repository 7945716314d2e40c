/**
 * The emulator's Jira Service Management (emulator/jira.ts), over real HTTP: Basic auth with an API token, issues
 * created only with a valid Atlassian Document Format description, comments (ADF only, with properties),
 * transitions from the workflow's current status only, JQL search by label that trails creation like Jira's index,
 * faults, and the admin listing `GET /__emulator/jira/issues`. Tollgate's own ADF builders (tickets/adf.ts) are
 * checked against the emulator's independent validator.
 */
import { bulletList, code, codeBlock, doc, heading, link, paragraph, strong } from '../tickets/adf';
import { issueDescription, ticketComment } from '../tickets/change-ticket-content';
import { toChangeEvent } from '../outbound/change-events';
import { useEmulator } from './fixtures';

const USER = 'bot@example.com';
const TOKEN = 'jira-token-1';
const { emulator } = useEmulator({ jiraUsers: { [USER]: TOKEN }, jiraProjects: ['CHG', 'OPS'] });

const basic = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;

async function jira(method: string, path: string, body?: unknown, auth = basic(USER, TOKEN)) {
  const response = await fetch(`${emulator.url}/jira/rest/api/3${path}`, {
    method,
    headers: { authorization: auth, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${emulator.url}/__emulator${path}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

const adf = (text: string) => ({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] });
const issueFields = (label: string, overrides: Record<string, unknown> = {}) => ({
  fields: { project: { key: 'CHG' }, issuetype: { name: 'Change' }, summary: 'Change ivr/main', description: adf('the plan'), labels: ['tollgate', label], ...overrides },
});

describe("the emulator's Jira", () => {
  afterEach(async () => {
    await admin('DELETE', '/faults');
    await admin('POST', '/settings', { jiraSearchLagMs: 0 });
  });

  it('answers 401 without the API token, or with another user\'s or a wrong one', async () => {
    expect((await jira('GET', '/issue/CHG-1', undefined, '')).status).toBe(401);
    expect((await jira('GET', '/issue/CHG-1', undefined, basic(USER, 'wrong'))).status).toBe(401);
    const refused = await jira('POST', '/issue', issueFields('l-401'), basic('someone@example.com', TOKEN));
    expect(refused).toEqual({ status: 401, body: { errorMessages: [expect.any(String)], errors: {} } });
  });

  it('creates an issue with an ADF description and lists it with its fields, comments and status', async () => {
    const created = await jira('POST', '/issue', issueFields('l-create'));
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(/^\d+$/), key: expect.stringMatching(/^CHG-\d+$/), self: expect.any(String) });
    const read = await jira('GET', `/issue/${created.body.key}?fields=status,labels`);
    expect(read.body.fields).toEqual({ status: { id: '1', name: 'Open', statusCategory: { key: 'new' } }, labels: ['tollgate', 'l-create'] });
    const { issues } = await admin<{ issues: any[] }>('GET', '/jira/issues');
    expect(issues.find((issue) => issue.key === created.body.key)).toMatchObject({
      project: 'CHG',
      issueType: 'Change',
      summary: 'Change ivr/main',
      status: 'Open',
      statusCategory: 'new',
      reporter: USER,
      descriptionText: 'the plan',
      comments: [],
      transitions: [],
    });
  });

  it('refuses what Jira refuses: a plain-string description, an empty text node, a bad mark, a newline in the summary, an unknown project or type, a label with a space', async () => {
    const refusals = [
      issueFields('x', { description: 'plain text is v2, not v3' }),
      issueFields('x', { description: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: '' }] }] } }),
      issueFields('x', { description: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'x', marks: [{ type: 'code' }, { type: 'strong' }] }] }] } }),
      issueFields('x', { description: { type: 'doc', version: 1, content: [{ type: 'heading', content: [{ type: 'text', text: 'no level' }] }] } }),
      issueFields('x', { summary: 'two\nlines' }),
      issueFields('x', { project: { key: 'NOPE' } }),
      issueFields('x', { issuetype: { name: 'Epic' } }),
      issueFields('has space'),
    ];
    for (const body of refusals) {
      const answer = await jira('POST', '/issue', body);
      expect({ status: answer.status, errors: Object.keys(answer.body.errors ?? {}).length + (answer.body.errorMessages ?? []).length > 0 }).toEqual({ status: 400, errors: true });
    }
  });

  it('takes comments in ADF only, keeps their properties, and lists them oldest first (newest first on request)', async () => {
    const { body: issue } = await jira('POST', '/issue', issueFields('l-comments'));
    expect((await jira('POST', `/issue/${issue.key}/comment`, { body: 'plain' })).status).toBe(400);
    expect((await jira('POST', `/issue/${issue.key}/comment`, { body: adf('first'), properties: [{ key: 'tollgate.event', value: { event: 'evt_1' } }] })).status).toBe(201);
    expect((await jira('POST', `/issue/${issue.key}/comment`, { body: adf('second') })).status).toBe(201);
    const listed = await jira('GET', `/issue/${issue.key}/comment?expand=properties`);
    expect(listed.body.total).toBe(2);
    expect(listed.body.comments.map((comment: any) => comment.body.content[0].content[0].text)).toEqual(['first', 'second']);
    expect(listed.body.comments[0].properties).toEqual([{ key: 'tollgate.event', value: { event: 'evt_1' } }]);
    const newest = await jira('GET', `/issue/${issue.key}/comment?orderBy=-created&maxResults=1`);
    expect(newest.body.comments).toHaveLength(1);
    expect(newest.body.comments[0].properties).toBeUndefined();
    expect((await jira('POST', '/issue/CHG-99999/comment', { body: adf('x') })).status).toBe(404);
  });

  it('offers the transitions of the issue\'s status and refuses any other; a done status offers none', async () => {
    const { body: issue } = await jira('POST', '/issue', issueFields('l-transitions'));
    const offered = (await jira('GET', `/issue/${issue.key}/transitions`)).body.transitions;
    expect(offered.map((transition: any) => transition.name)).toEqual(['Implement', 'Done', 'Decline', 'Cancel', 'Mark as failed']);
    const implement = offered.find((transition: any) => transition.name === 'Implement');
    expect((await jira('POST', `/issue/${issue.key}/transitions`, { transition: { id: implement.id } })).status).toBe(204);
    expect((await jira('POST', `/issue/${issue.key}/transitions`, { transition: { id: implement.id } })).status).toBe(400);
    const done = offered.find((transition: any) => transition.name === 'Done');
    expect((await jira('POST', `/issue/${issue.key}/transitions`, { transition: { id: done.id } })).status).toBe(204);
    expect((await jira('GET', `/issue/${issue.key}/transitions`)).body.transitions).toEqual([]);
    const { issues } = await admin<{ issues: any[] }>('GET', '/jira/issues');
    const listed = issues.find((candidate) => candidate.key === issue.key);
    expect(listed.status).toBe('Done');
    expect(listed.statusCategory).toBe('done');
    expect(listed.transitions.map((t: any) => [t.from, t.to])).toEqual([
      ['Open', 'Implementing'],
      ['Implementing', 'Done'],
    ]);
  });

  it('finds issues by label with JQL, but only once its search index has caught up (jiraSearchLagMs)', async () => {
    await admin('POST', '/settings', { jiraSearchLagMs: 800 });
    const { body: issue } = await jira('POST', '/issue', issueFields('l-search'));
    const query = { jql: 'project = "CHG" AND labels = "l-search" ORDER BY created ASC', fields: ['summary'] };
    expect((await jira('POST', '/search/jql', query)).body.issues).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 900));
    const found = await jira('POST', '/search/jql', query);
    expect(found.body.issues.map((candidate: any) => candidate.key)).toEqual([issue.key]);
    expect((await jira('GET', `/search/jql?jql=${encodeURIComponent('labels = l-search AND project = OPS')}`)).body.issues).toEqual([]);
    expect((await jira('POST', '/search/jql', { jql: 'summary ~ "x"' })).status).toBe(400);
  });

  it('is hit by faults like every other route (Jira down, a lost answer), never the admin listing', async () => {
    await admin('POST', '/faults', { pathPrefix: '/jira/rest/api/3', status: 503, retryAfterSeconds: 2 });
    const down = await fetch(`${emulator.url}/jira/rest/api/3/issue/CHG-1`, { headers: { authorization: basic(USER, TOKEN) } });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('2');
    expect((await fetch(`${emulator.url}/__emulator/jira/issues`)).status).toBe(200);
    await admin('DELETE', '/faults');
    await admin('POST', '/faults', { method: 'POST', pathPrefix: '/jira/rest/api/3/issue', dropResponse: true, count: 1 });
    const before = (await admin<{ issues: unknown[] }>('GET', '/jira/issues')).issues.length;
    await expect(jira('POST', '/issue', issueFields('l-lost'))).rejects.toThrow();
    // The answer was lost; the issue exists.
    expect((await admin<{ issues: any[] }>('GET', '/jira/issues')).issues.filter((issue) => issue.labels.includes('l-lost'))).toHaveLength(1);
    expect((await admin<{ issues: unknown[] }>('GET', '/jira/issues')).issues.length).toBe(before + 1);
  });

  it("accepts every document Tollgate's ADF builders and ticket texts produce", async () => {
    const { body: issue } = await jira(
      'POST',
      '/issue',
      issueFields('l-adf', {
        description: issueDescription(
          {
            changeId: 'chg-adf',
            submitted: { changeId: 'chg-adf', target: 'ivr/main', requester: 'alice', reason: 'Saturday\nopening', desired: { greeting: 'Hi' }, pullRequest: 'acme/genesys#4', signature: 'sig', proof: { requester: 'alice', via: 'signature', keyFingerprint: 'SHA256:xyz' } },
            planned: { baseVersion: 3, payloadHash: 'ab'.repeat(32), diff: [{ field: 'greeting', from: 'Hello', to: 'Hi' }], baseFields: { greeting: 'Hello', empty: '' }, payload: { greeting: 'Hi', empty: '' }, requiredApprovals: 2 },
          },
          { pullRequestWebUrl: 'https://github.com' },
        ),
      }),
    );
    expect(issue.key).toMatch(/^CHG-/);
    const built = doc(paragraph('a', strong(''), code('x'), link('', 'https://example.com'), '\n'), heading(2, 'h'), codeBlock(''), bulletList([['one'], []]), paragraph());
    expect((await jira('POST', `/issue/${issue.key}/comment`, { body: built })).status).toBe(201);
    const row = { seq: 1, recordedAt: new Date().toISOString(), subject: 'change:chg-adf', prevHash: '0', hash: 'a'.repeat(64) };
    const events = [
      { kind: 'change.approved', data: { principal: 'bob', via: 'signature', payloadHash: 'ab', approvals: 1, required: 2, keyFingerprint: 'SHA256:abc' } },
      { kind: 'change.approved', data: { principal: 'carol', via: 'review', payloadHash: 'ab', approvals: 2, required: 2, review: { login: 'carol', id: 7, commitId: 'c'.repeat(40) } } },
      { kind: 'change.approval_refused', data: { principal: 'mallory', code: 'unknown_approver', reason: 'not an approver' } },
      { kind: 'change.rejected', data: { by: 'dave', reason: 'not now', via: 'signature' } },
      { kind: 'change.withdrawn', data: { by: 'alice', reason: 'typo' } },
      { kind: 'change.expired', data: { afterMs: 604_800_000 } },
      { kind: 'change.cancelled', data: { reason: 'no_change' } },
      { kind: 'change.deploying', data: { baseVersion: 3 } },
      { kind: 'change.written', data: { versionBefore: 3, versionAfter: 4, kind: 'deploy', fields: ['greeting'] } },
      { kind: 'change.verified', data: { version: 4, reason: 'verified at version 4' } },
      { kind: 'change.rolled_back', data: { mismatch: ['greeting'], rollbackVersion: 5, verified: true } },
      { kind: 'change.diverged', data: { fields: ['greeting'], by: 'user admin', reason: 'changed since the plan' } },
      { kind: 'change.failed', data: { reason: 'conflict_retries_exhausted' } },
      { kind: 'change.audited', data: { version: 4, auditWorkflowId: 'audit:ivr:main:4' } },
    ];
    for (const event of events) {
      const comment = ticketComment(toChangeEvent({ ...row, key: `k-${event.kind}`, kind: event.kind as never, data: event.data }, { target: 'ivr/main' }), {
        audit: { target: 'ivr/main', version: 4, source: 'webhook', modifiedBy: { kind: 'client', id: 'tollgate' } },
      });
      const answer = await jira('POST', `/issue/${issue.key}/comment`, { body: comment });
      expect({ kind: event.kind, status: answer.status, body: answer.status === 201 ? undefined : answer.body }).toEqual({ kind: event.kind, status: 201, body: undefined });
    }
  });
});
