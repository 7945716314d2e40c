/**
 * Every change has its ticket, from request to audit (issue 13; the change seed: "Middleware stores the payload and
 * creates an approval ticket", "The Genesys Webhook fires, sending the change details back to the Jira ticket for
 * closure"), and every step goes out as a signed event. Real Temporal, PostgreSQL, worker and receivers; the
 * emulator plays Genesys Cloud and Jira Service Management over HTTP; a node:http receiver takes the signed events.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { Pool } from 'pg';
import type { CapturedRequest } from '../emulator/testing';
import { DeliveryCursors } from '../outbound/delivery-cursors';
import { changeWorkflowId } from '../workflows/workflow-ids';
import { approveBy, planned, reject, submit, waitForState } from './change-gate-support';
import { commentHeadlines, issueInStatus, issuesOfChange, ledgerRowsOf, seedTicketObject, startTicketStack, type TicketStack } from './change-tickets-support';
import { eventually } from './harness/stack';
import { runTollgateCli, type CliRun } from './harness/cli';

let tickets: TicketStack;
let pool: Pool;

beforeAll(async () => {
  // Jira's search index trails its writes by 1.5 s here: a create whose answer is lost is not found at once.
  tickets = await startTicketStack({ emulatorSettings: { jiraSearchLagMs: 1500 } });
  pool = new Pool({ connectionString: tickets.stack.databaseUrl, max: 2 });
});
afterAll(async () => {
  await pool?.end();
  await tickets?.close();
});
afterEach(async () => {
  await tickets.stack.emulator.admin('DELETE', '/faults');
});

const stack = () => tickets.stack;

async function deployedChange(fields: Record<string, unknown>, desired: Record<string, unknown>, reason = 'Open on Saturdays') {
  const target = await seedTicketObject(tickets, fields);
  const handle = await submit(stack(), { target, desired, requester: 'alice', reason });
  await planned(handle);
  await approveBy(stack(), handle, ['bob', 'carol']);
  const status = await waitForState(handle, ['audited'], 120_000);
  return { target, handle, changeId: status.changeId, status };
}

/** The signed events the receiver got about one change, each checked with the reference library and with the
 * specification's HMAC computed here. */
function verifiedEventsOf(changeId: string): Array<{ request: CapturedRequest; event: any }> {
  return tickets.receiver.received
    .filter((request) => (request.body as any)?.data?.changeId === changeId)
    .map((request) => {
      const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => [name, String(request.headers[name])]));
      const body = request.rawBody.toString('utf8');
      const event = new Webhook(tickets.secret).verify(body, headers);
      const key = Buffer.from(tickets.secret.slice('whsec_'.length), 'base64');
      const expected = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest();
      const given = Buffer.from(headers['webhook-signature'].split(',')[1], 'base64');
      expect(given.length === expected.length && timingSafeEqual(given, expected)).toBe(true);
      return { request, event };
    });
}

function cliStatus(changeId: string): Promise<CliRun> {
  return runTollgateCli(['change', 'status', changeId, '--json'], { ...process.env, ...stack().env });
}

describe('a change and its Jira ticket', () => {
  it('opens one issue with the plan, comments each approval with its principal and the deploy, and closes it after the audit', async () => {
    const { target, changeId, status } = await deployedChange({ greeting: 'Welcome to Acme', queue: 'general' }, { greeting: 'Welcome, now open on Saturdays' });
    const issue = await issueInStatus(stack(), changeId, 'Done');
    expect(await issuesOfChange(stack(), changeId)).toHaveLength(1);

    expect(issue.project).toBe('CHG');
    expect(issue.summary).toBe(`Tollgate: ivr/${target.id}: Open on Saturdays (${changeId})`);
    // The description is the plan as reviewers read it (views/plan-view.ts), with who asked and how it was proven.
    expect(issue.descriptionText).toContain(`Tollgate change ${changeId} on ivr/${target.id}, requested by alice.`);
    expect(issue.descriptionText).toContain('Plan: 1 to change, 0 to add, 0 to remove.');
    expect(issue.descriptionText).toContain('~ greeting: "Welcome to Acme" → "Welcome, now open on Saturdays"');
    expect(issue.descriptionText).toContain(`payload sha256 ${status.plan!.payloadHash}`);
    expect(issue.descriptionText).toMatch(/Submission proven by the requester's SSH signature \(key SHA256:/);

    // One comment per step, in the change's order; each approval names the principal the worker proved.
    expect(commentHeadlines(issue)).toEqual([
      expect.stringMatching(/^Approved by bob by an SSH signature over this run's statement, verified against the allowed signers \(key SHA256:/),
      expect.stringMatching(/^Approved by carol by an SSH signature/),
      expect.stringMatching(/^Deploying under the object's deploy lock \(planned on version 1\)/),
      `Deployed: ivr/${target.id} version 1 → 2 (greeting). Reading it back next.`,
      expect.stringMatching(/^Verified: read back at version 2/),
      `Audited: version 2 of ivr/${target.id} is this change's own write — the change is closed.`,
    ]);
    expect(issue.comments[0].text).toContain(`1 of 2 approvals; payload sha256 ${status.plan!.payloadHash}.`);
    expect(issue.comments[1].text).toContain('2 of 2 approvals');
    expect(issue.comments[1].text).toContain('The policy is met.');
    expect(issue.comments.at(-1)!.text).toContain(`Audit workflow ${status.auditedBy}`);
    expect(issue.comments.at(-1)!.text).toMatch(/Found by: webhook|Found by: poll/);
    // Each comment names its event, so a retried delivery finds it instead of posting it twice.
    expect(issue.comments.every((comment) => comment.properties.some((property) => property.key === 'tollgate.event' && /^evt_[0-9a-f]{32}$/.test(property.value.event)))).toBe(true);
    expect(issue.transitions.map((transition) => [transition.name, transition.from, transition.to])).toEqual([
      ['Implement', 'Open', 'Implementing'],
      ['Done', 'Implementing', 'Done'],
    ]);

    // The ticket key is in the ledger, and `tollgate change status` shows it.
    const ticketRows = await ledgerRowsOf(stack(), changeWorkflowId(changeId), ['change.ticket']);
    expect(ticketRows.map((row) => row.data)).toEqual([{ system: 'jira', endpoint: 'jira', key: issue.key, url: `${stack().config.events.jira!.url}/browse/${issue.key}` }]);
    const cli = await cliStatus(changeId);
    expect(cli.code).toBe(0);
    expect(cli.json).toMatchObject({ changeId, state: 'audited', tickets: [{ system: 'jira', key: issue.key }] });
  });

  it('ends a rejected change\'s issue in the rejected status, with the rejection and who made it', async () => {
    const target = await seedTicketObject(tickets, { greeting: 'hello' });
    const handle = await submit(stack(), { target, desired: { greeting: 'free pizza' }, requester: 'alice' });
    const { changeId } = await planned(handle);
    await approveBy(stack(), handle, ['bob']);
    await reject(stack(), handle, 'carol', 'not during the campaign');
    await waitForState(handle, ['rejected']);
    const issue = await issueInStatus(stack(), changeId, 'Declined');
    expect(await issuesOfChange(stack(), changeId)).toHaveLength(1);
    expect(commentHeadlines(issue)).toEqual([expect.stringMatching(/^Approved by bob/), expect.stringMatching(/^Rejected by carol \(signed\): not during the campaign$/)]);
    expect(issue.transitions.map((transition) => transition.to)).toEqual(['Declined']);
  });

  it('sends every step as a signed event, in ledger order, each verifying, with a stable id per event', async () => {
    const { changeId } = await deployedChange({ greeting: 'hi' }, { greeting: 'hello' });
    const rows = await ledgerRowsOf(stack(), changeWorkflowId(changeId));
    const outbound = rows.filter((row) => row.kind.startsWith('change.'));
    const received = await eventually(
      'every event of the change at the receiver',
      async () => {
        const events = verifiedEventsOf(changeId).filter(({ event }) => event.type.startsWith('change.'));
        return events.length >= outbound.length ? events : undefined;
      },
      60_000,
    );
    expect(received.map(({ event }) => event.type)).toEqual(outbound.map((row) => row.kind));
    expect(received.map(({ event }) => event.type)).toEqual(expect.arrayContaining(['change.submitted', 'change.planned', 'change.approved', 'change.deploying', 'change.written', 'change.verified', 'change.ticket', 'change.audited']));
    expect(received.map(({ event }) => event.data.ledger.seq)).toEqual(outbound.map((row) => row.seq));
    for (const [index, { request, event }] of received.entries()) {
      expect(request.headers['webhook-id']).toBe(`evt_${outbound[index].hash.slice(0, 32)}`);
      expect(event.timestamp).toBe(outbound[index].recordedAt);
      expect(event.data).toMatchObject({ changeId, target: expect.stringMatching(/^ivr\//), ledger: { key: outbound[index].key, hash: outbound[index].hash } });
    }
    // The audit of the written version goes out too, naming the change it matched.
    const audit = await eventually('the audit event', async () => verifiedEventsOf(changeId).find(({ event }) => event.type === 'audit.approved'));
    expect(audit.event.data).toMatchObject({ changeId, version: 2, source: expect.any(String), target: expect.stringMatching(/^ivr\//) });
  });
});

describe('delivery when an endpoint is down', () => {
  it('loses nothing while Jira and the webhook endpoint are down: the comments and the transition arrive in order once they are back', async () => {
    // Jira answers 503 to everything, and the webhook endpoint refuses its next three deliveries.
    await stack().emulator.admin('POST', '/faults', { pathPrefix: '/jira/rest/api/3', status: 503, retryAfterSeconds: 1 });
    tickets.receiver.answerNext({ status: 503 }, { status: 429 }, { status: 500 });
    const before = tickets.receiver.received.length;
    // The change itself does not wait for its ticket: it deploys and is audited while Jira is down.
    const { changeId } = await deployedChange({ greeting: 'a' }, { greeting: 'b' });
    expect(await issuesOfChange(stack(), changeId)).toEqual([]);
    const cursor = await eventually('the Jira cursor to record the outage', async () => {
      const found = await new DeliveryCursors(pool).read(stack().taskQueue, 'jira');
      return found && found.failures > 0 ? found : undefined;
    });
    expect(cursor.lastError).toMatch(/503/);

    await stack().emulator.admin('DELETE', '/faults');
    const issue = await issueInStatus(stack(), changeId, 'Done');
    expect(await issuesOfChange(stack(), changeId)).toHaveLength(1);
    expect(commentHeadlines(issue).map((line) => line.split(/[ :]/)[0])).toEqual(['Approved', 'Approved', 'Deploying', 'Deployed', 'Verified', 'Audited']);
    expect(issue.transitions.map((transition) => transition.to)).toEqual(['Implementing', 'Done']);

    // The webhook endpoint's refusals were retried (same id each time), and every event arrived, in order.
    const retried = tickets.receiver.received.slice(before, before + 4).map((request) => request.headers['webhook-id']);
    expect(new Set(retried).size).toBe(1);
    const rows = (await ledgerRowsOf(stack(), changeWorkflowId(changeId))).filter((row) => row.kind.startsWith('change.'));
    const events = await eventually('every event of the change', async () => {
      const got = verifiedEventsOf(changeId).filter(({ event }) => event.type.startsWith('change.'));
      const distinct = [...new Map(got.map((item) => [item.request.headers['webhook-id'], item])).values()];
      return distinct.length >= rows.length ? distinct : undefined;
    });
    expect(events.map(({ event }) => event.data.ledger.seq)).toEqual(rows.map((row) => row.seq));
  });

  it('creates no second issue when the answer to the create is lost and Jira\'s search has not caught up yet', async () => {
    const since = new Date().toISOString();
    await stack().emulator.admin('POST', '/faults', { method: 'POST', pathPrefix: '/jira/rest/api/3/issue', dropResponse: true, count: 1 });
    const target = await seedTicketObject(tickets, { greeting: 'x' });
    const handle = await submit(stack(), { target, desired: { greeting: 'y' }, requester: 'alice' });
    const { changeId } = await planned(handle);
    await approveBy(stack(), handle, ['bob', 'carol']);
    await waitForState(handle, ['audited'], 120_000);
    const issue = await issueInStatus(stack(), changeId, 'Done');
    const faults = (await stack().emulator.admin<{ faults: Array<{ hits: number }> }>('GET', '/state')).faults;
    expect(faults.map((fault) => fault.hits)).toEqual([1]); // the create landed and its answer was lost
    expect(await issuesOfChange(stack(), changeId)).toHaveLength(1);
    expect(commentHeadlines(issue).map((line) => line.split(/[ :]/)[0])).toEqual(['Approved', 'Approved', 'Deploying', 'Deployed', 'Verified', 'Audited']);
    const ticketRows = await ledgerRowsOf(stack(), changeWorkflowId(changeId), ['change.ticket']);
    expect(ticketRows.map((row) => row.data.key)).toEqual([issue.key]);
    // The adapter looked for the issue it may have created (and Jira's lagging search did not show it at first).
    const { requests } = await stack().emulator.admin<{ requests: Array<{ method: string; path: string; status: number | string }> }>('GET', `/requests?since=${since}`);
    const jira = requests.filter((request) => request.path.startsWith('/jira/'));
    expect(jira.filter((request) => request.method === 'POST' && request.path === '/jira/rest/api/3/issue').map((request) => request.status)).toEqual(['dropped']);
    expect(jira.filter((request) => request.path === '/jira/rest/api/3/search/jql').length).toBeGreaterThanOrEqual(2);
  });
});
