/**
 * No second ticket when a worker dies, or is shut down, between "Jira created the issue" and "the cursor moved past
 * the event": the next attempt finds the claim it left (tollgate.change_tickets), looks the issue up by the change's
 * label, and adopts it. Real worker processes (`tollgate worker`, killed with SIGKILL), Temporal, PostgreSQL and the
 * emulator's Jira over HTTP.
 */
import type { ChildProcess } from 'node:child_process';
import { changeWorkflowId } from '../workflows/workflow-ids';
import { approveBy, planned, submit, waitForState } from './change-gate-support';
import { commentHeadlines, issueInStatus, issuesOfChange, jiraIssues, ledgerRowsOf, seedTicketObject, startTicketStack, type TicketStack } from './change-tickets-support';
import { eventually } from './harness/stack';
import { deleteWorkerSchedules, startWorkerProcess } from './lifecycle-support';

let tickets: TicketStack;
let child: ChildProcess | undefined;

beforeAll(async () => {
  tickets = await startTicketStack({ worker: false, emulatorSettings: { jiraSearchLagMs: 1000 } });
});
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (tickets) await deleteWorkerSchedules(tickets.stack);
  await tickets?.close();
});

const stack = () => tickets.stack;

/** Puts a slow create in Jira's way and waits until one is in flight (Jira has the request; the answer is late). */
async function createInFlight(latencyMs: number): Promise<{ changeId: string; handle: Awaited<ReturnType<typeof submit>> }> {
  const { id: faultId } = await stack().emulator.admin<{ id: string }>('POST', '/faults', { method: 'POST', pathPrefix: '/jira/rest/api/3/issue', latencyMs, count: 1 });
  const target = await seedTicketObject(tickets, { greeting: 'hello' });
  const handle = await submit(stack(), { target, desired: { greeting: 'hi' }, requester: 'alice' });
  const { changeId } = await planned(handle);
  await eventually('the create to reach Jira', async () => {
    const state = await stack().emulator.admin<{ faults: Array<{ id: string; hits: number }> }>('GET', '/state');
    return state.faults.find((fault) => fault.id === faultId)?.hits === 1;
  });
  return { changeId, handle };
}

async function closedWithOneIssue(changeId: string, handle: Awaited<ReturnType<typeof submit>>): Promise<void> {
  await approveBy(stack(), handle, ['bob', 'carol']);
  await waitForState(handle, ['audited'], 120_000);
  const issue = await issueInStatus(stack(), changeId, 'Done', 120_000);
  expect(await issuesOfChange(stack(), changeId)).toHaveLength(1);
  expect(commentHeadlines(issue).map((line) => line.split(/[ :]/)[0])).toEqual(['Approved', 'Approved', 'Deploying', 'Deployed', 'Verified', 'Audited']);
  const ticketRows = await ledgerRowsOf(stack(), changeWorkflowId(changeId), ['change.ticket']);
  expect(ticketRows.map((row) => row.data.key)).toEqual([issue.key]);
}

it('a worker killed while Jira creates the issue: the next worker adopts that issue instead of creating another', async () => {
  child = await startWorkerProcess(stack());
  const { changeId, handle } = await createInFlight(2500);
  child.kill('SIGKILL');
  await new Promise<void>((resolve) => (child?.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  // Jira finishes the create after its latency, for nobody: the issue exists, no worker knows its key.
  await eventually('the orphaned issue to exist', async () => (await issuesOfChange(stack(), changeId)).length === 1);

  await stack().worker.start();
  await closedWithOneIssue(changeId, handle);
});

it('a worker shut down while Jira creates the issue: the same, after a graceful restart', async () => {
  const { changeId, handle } = await createInFlight(1500);
  await stack().worker.stop();
  await eventually('the create to land', async () => (await issuesOfChange(stack(), changeId)).length === 1);
  await stack().worker.start();
  await closedWithOneIssue(changeId, handle);
  // Nothing else of this file's changes was duplicated either.
  const labels = (await jiraIssues(stack())).flatMap((issue) => issue.labels.filter((label) => label.startsWith('tollgate-change-')));
  expect(new Set(labels).size).toBe(labels.length);
});
