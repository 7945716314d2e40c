/**
 * Shared steps of the change-ticket tests: a stack whose outbound events go to the emulator's Jira and to a signed
 * webhook receiver, limited to this file's own objects (the ledger is shared by every test file of the run, so each
 * file's endpoints take only the targets it made), objects seeded under that prefix, and reads of what Jira holds.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { startWebhookReceiver, type WebhookReceiver } from '../emulator/testing';
import { ledgerRowsOf } from './ledger-support';
import { eventually, startTestStack, type StackOptions, type TestStack } from './harness/stack';
import type { TargetRef } from '../workflows/workflow-ids';

export interface JiraIssueView {
  id: string;
  key: string;
  project: string;
  summary: string;
  labels: string[];
  status: string;
  statusCategory: string;
  descriptionText: string;
  comments: Array<{ id: string; text: string; properties: Array<{ key: string; value: any }> }>;
  transitions: Array<{ name: string; from: string; to: string }>;
}

export interface TicketStack {
  stack: TestStack;
  receiver: WebhookReceiver;
  /** This file's prefix of object IDs: its endpoints take only these targets. */
  prefix: string;
  /** The webhook endpoint's signing secret. */
  secret: string;
  close(): Promise<void>;
}

/** A stack with Jira (the emulator's) and one signed webhook endpoint, both limited to `ivr/<prefix>-*`. */
export async function startTicketStack(options: StackOptions = {}): Promise<TicketStack> {
  const prefix = `tix${randomUUID().slice(0, 6)}`;
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const receiver = await startWebhookReceiver();
  const stack = await startTestStack({
    ...options,
    jira: true,
    env: {
      TOLLGATE_JIRA_TARGETS: `ivr/${prefix}-*`,
      TOLLGATE_EVENT_ENDPOINTS: JSON.stringify([{ name: `feed-${prefix}`, url: receiver.url, targets: [`ivr/${prefix}-*`] }]),
      TOLLGATE_EVENT_SECRETS: JSON.stringify({ [`feed-${prefix}`]: secret }),
      // Tests wait seconds, not minutes, for an endpoint that was down.
      TOLLGATE_EVENT_RETRY_MAX: '2s',
      TOLLGATE_JIRA_SEARCH_SETTLE: '3s',
      TOLLGATE_AUDIT_WAIT: '2m',
      ...options.env,
    },
  });
  return {
    stack,
    receiver,
    prefix,
    secret,
    async close() {
      await stack.close();
      await receiver.close();
    },
  };
}

export async function seedTicketObject(tickets: TicketStack, fields: Record<string, unknown>): Promise<TargetRef> {
  const target = { type: 'ivr', id: `${tickets.prefix}-${randomUUID().slice(0, 8)}` };
  await tickets.stack.emulator.admin('PUT', `/objects/${target.type}/${target.id}`, { ...fields, version: 1 });
  return target;
}

export async function jiraIssues(stack: TestStack): Promise<JiraIssueView[]> {
  return (await stack.emulator.admin<{ issues: JiraIssueView[] }>('GET', '/jira/issues')).issues;
}

/** Every Jira issue that carries the change's label. */
export async function issuesOfChange(stack: TestStack, changeId: string): Promise<JiraIssueView[]> {
  return (await jiraIssues(stack)).filter((issue) => issue.labels.includes(`tollgate-change-${changeId}`));
}

/** Waits until the change's issue is in `status`; returns it. */
export async function issueInStatus(stack: TestStack, changeId: string, status: string, timeoutMs = 90_000): Promise<JiraIssueView> {
  let last: JiraIssueView[] = [];
  try {
    return await eventually(
      `the Jira issue of ${changeId} to be ${status}`,
      async () => {
        last = await issuesOfChange(stack, changeId);
        return last.find((issue) => issue.status === status);
      },
      timeoutMs,
      250,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; issues: ${JSON.stringify(last.map((issue) => ({ key: issue.key, status: issue.status, comments: issue.comments.map((c) => c.text) })))}`, {
      cause: error,
    });
  }
}

/** The first line of each comment: what a reader sees in the issue's activity. */
export function commentHeadlines(issue: JiraIssueView): string[] {
  return issue.comments.map((comment) => comment.text.split('\n')[0]);
}

export { ledgerRowsOf };
