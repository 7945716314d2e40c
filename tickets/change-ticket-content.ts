/**
 * What a change's ticket says, built from the audit ledger's records (pure: no I/O): the issue's summary, labels and
 * description (who asked for what on which object, the pull request, and the plan as reviewers read it —
 * views/plan-view.ts), one comment per step of the change (each approval and refusal naming the proven principal,
 * the deploy, the write, the verification, the audit with its details), and which moment of the change's life a
 * step is, for the ticket's transitions (the change seed: "The Genesys Webhook fires, sending the change details
 * back to the Jira ticket for closure").
 */
import type { TicketMoment } from '../platform/config';
import { planView, renderPlan } from '../views/plan-view';
import type { Plan } from '../workflows/change-messages';
import type { LedgerData } from '../workflows/ledger-records';
import { parseTargetAddress } from '../workflows/workflow-ids';
import type { ChangeEvent } from '../outbound/change-events';
import { bulletList, code, codeBlock, doc, emphasis, heading, link, paragraph, strong, type AdfDoc, type InlinePart } from './adf';

/** What the ledger knows of a change before its ticket is opened. */
export interface ChangeFacts {
  changeId: string;
  submitted?: LedgerData['change.submitted'];
  planned?: LedgerData['change.planned'];
}

export interface TicketTextOptions {
  /** `https://github.com` (or GitHub Enterprise's host): pull requests become links. */
  pullRequestWebUrl?: string;
}

/** Plans longer than this are cut in the description (Jira keeps at most 32,767 characters in a field). */
const MAX_PLAN_CHARACTERS = 20_000;

/** The label that finds a change's issue again (JQL), whatever happened to the worker that created it. */
export function changeLabel(changeId: string): string {
  return `tollgate-change-${changeId}`;
}

export function issueLabels(changeId: string): string[] {
  return ['tollgate', changeLabel(changeId)];
}

export function issueSummary(facts: ChangeFacts): string {
  const target = facts.submitted?.target ?? 'a Genesys Cloud object';
  const what = facts.submitted?.reason?.replace(/\s+/g, ' ').trim() || 'configuration change';
  const summary = `Tollgate: ${target}: ${what} (${facts.changeId})`;
  return summary.length <= 255 ? summary : `${summary.slice(0, 250)}…)`;
}

/** `owner/repo#12` → its web page. */
export function pullRequestUrl(pullRequest: string, webUrl?: string): string | undefined {
  const match = /^([^/\s#]+)\/([^/\s#]+)#(\d+)$/.exec(pullRequest.split(':')[0]);
  if (!match || !webUrl) return undefined;
  return `${webUrl}/${match[1]}/${match[2]}/pull/${match[3]}`;
}

/** The plan as a reviewer reads it (views/plan-view.ts), from the `change.planned` record. */
export function planText(facts: ChangeFacts): string | undefined {
  const planned = facts.planned;
  if (!planned) return undefined;
  const target = parseTargetAddress(facts.submitted?.target ?? '') ?? { type: 'unknown', id: facts.changeId };
  const plan: Plan = {
    target,
    baseVersion: planned.baseVersion,
    baseFields: planned.baseFields,
    desired: facts.submitted?.desired ?? {},
    replace: false,
    diff: planned.diff,
    payload: planned.payload,
    payloadHash: planned.payloadHash,
    plannedAt: '',
  };
  const text = renderPlan(planView(plan), 'text');
  return text.length <= MAX_PLAN_CHARACTERS ? text : `${text.slice(0, MAX_PLAN_CHARACTERS)}\n… (${text.length - MAX_PLAN_CHARACTERS} more characters: tollgate change status ${facts.changeId})`;
}

export function issueDescription(facts: ChangeFacts, options: TicketTextOptions = {}): AdfDoc {
  const submitted = facts.submitted;
  const planned = facts.planned;
  const pullRequest = submitted?.pullRequest;
  const prUrl = pullRequest ? pullRequestUrl(pullRequest, options.pullRequestWebUrl) : undefined;
  const via = submitted?.proof?.via ?? (submitted?.signature ? 'signature' : pullRequest ? 'pull_request' : undefined);
  const proof: InlinePart =
    via === 'system'
      ? 'Started by Tollgate itself to revert drift (the one pre-approved kind of change).'
      : via === 'signature'
        ? ['Submission proven by the requester\'s SSH signature', submitted?.proof?.keyFingerprint ? [' (key ', code(submitted.proof.keyFingerprint), ')'] : '', '.']
        : via === 'pull_request'
          ? 'Submission proven by the linked pull request (its author is the requester).'
          : undefined;
  const plan = planText(facts);
  const id = facts.changeId;
  return doc(
    paragraph('Tollgate change ', strong(id), ' on ', code(submitted?.target ?? 'unknown target'), ', requested by ', strong(submitted?.requester ?? 'unknown'), '.'),
    submitted?.reason ? paragraph(strong('Reason: '), submitted.reason) : undefined,
    pullRequest ? paragraph(strong('Pull request: '), prUrl ? link(pullRequest, prUrl) : code(pullRequest)) : undefined,
    proof ? paragraph(proof) : undefined,
    heading(3, 'Plan'),
    plan ? codeBlock(plan) : paragraph(emphasis('No plan yet.')),
    planned
      ? paragraph(
          `Base version ${planned.baseVersion}, payload sha256 `,
          code(planned.payloadHash),
          `. ${planned.requiredApprovals} approval${planned.requiredApprovals === 1 ? '' : 's'} needed from people other than the requester.`,
        )
      : undefined,
    heading(3, 'Approving'),
    paragraph('Each approver signs this run\'s statement with their own SSH key (or reviews the linked pull request):'),
    codeBlock(
      `tollgate change statement ${id} --as NAME > statement.txt\nssh-keygen -Y sign -n tollgate -f ~/.ssh/KEY statement.txt\ntollgate change approve ${id} --approver NAME --signature statement.txt.sig`,
      'shell',
    ),
    paragraph(emphasis(`Every step of this change is posted here as a comment; the audit of the deployed version closes the ticket. Temporal workflow change:${id}.`)),
  );
}

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The comment a step of the change adds to its ticket, or undefined for steps that add none. */
export function ticketComment(event: ChangeEvent, extra: { audit?: LedgerData['audit.approved'] } = {}): AdfDoc | undefined {
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'change.approved': {
      const d = data as unknown as LedgerData['change.approved'];
      const review = d.review as { login?: string; id?: number; commitId?: string } | undefined;
      const reviewDetails = review?.id !== undefined ? [`review ${review.id}`, review.login ? `by ${review.login}` : '', review.commitId ? `on commit ${review.commitId.slice(0, 12)}` : ''] : [];
      const how: InlinePart[] =
        d.via === 'review'
          ? [' by a review on the pull request', reviewDetails.length > 0 ? ` (${reviewDetails.filter(Boolean).join(' ')})` : '']
          : d.via === 'system'
            ? [' by Tollgate itself (a drift revert)']
            : [' by an SSH signature over this run\'s statement, verified against the allowed signers', d.keyFingerprint ? [' (key ', code(d.keyFingerprint), ')'] : ''];
      return doc(
        paragraph(strong('Approved'), ' by ', strong(d.principal), ...how, '.'),
        paragraph(`${d.approvals} of ${d.required} approvals; payload sha256 `, code(d.payloadHash), d.approvals >= d.required ? '. The policy is met.' : '.'),
      );
    }
    case 'change.approval_refused': {
      const d = data as unknown as LedgerData['change.approval_refused'];
      return doc(paragraph(strong('Approval refused'), ' for ', strong(d.principal), ' (', code(d.code), `): ${d.reason}`));
    }
    case 'change.rejected': {
      const d = data as unknown as LedgerData['change.rejected'];
      return doc(paragraph(strong('Rejected'), ' by ', strong(d.by), d.via === 'review' ? ' (changes requested in review)' : d.via === 'signature' ? ' (signed)' : '', `: ${d.reason}`));
    }
    case 'change.withdrawn': {
      const d = data as unknown as LedgerData['change.withdrawn'];
      return doc(paragraph(strong('Withdrawn'), ' by the requester ', strong(d.by), `: ${d.reason}`));
    }
    case 'change.expired': {
      const d = data as unknown as LedgerData['change.expired'];
      return doc(paragraph(strong('Expired'), `: not approved within ${formatDuration(d.afterMs)}. Nothing was written.`));
    }
    case 'change.cancelled': {
      const d = data as unknown as LedgerData['change.cancelled'];
      return doc(paragraph(strong('Cancelled'), `: ${d.reason}`));
    }
    case 'change.deploying': {
      const d = data as unknown as LedgerData['change.deploying'];
      return doc(paragraph(strong('Deploying'), ` under the object's deploy lock (planned on version ${d.baseVersion}).`));
    }
    case 'change.written': {
      const d = data as unknown as LedgerData['change.written'];
      return doc(
        paragraph(
          strong(d.kind === 'rollback' ? 'Rollback written' : 'Deployed'),
          `: ${event.data.target ?? 'the object'} version ${d.versionBefore} → ${d.versionAfter}`,
          d.fields.length > 0 ? [' (', code(d.fields.join(', ')), ')'] : '',
          '. Reading it back next.',
        ),
      );
    }
    case 'change.verified': {
      const d = data as unknown as LedgerData['change.verified'];
      return doc(paragraph(strong('Verified'), `: read back at version ${d.version}, the object holds exactly what was approved`, d.reason ? ` (${d.reason}).` : '.'));
    }
    case 'change.rolled_back': {
      const d = data as unknown as LedgerData['change.rolled_back'];
      return doc(
        paragraph(strong('Rolled back'), ': the read-back did not match the plan', d.mismatch.length > 0 ? [' (', code(d.mismatch.join(', ')), ')'] : '', '.'),
        paragraph(d.rollbackVersion !== undefined ? `Rollback at version ${d.rollbackVersion}` : 'Rollback', d.verified ? ', verified.' : ', NOT verified: fix by hand.'),
      );
    }
    case 'change.diverged': {
      const d = data as unknown as LedgerData['change.diverged'];
      return doc(paragraph(strong('Diverged'), ': ', code(d.fields.join(', ') || '(fields)'), d.by ? ` changed by ${d.by}` : '', `. ${d.reason}`));
    }
    case 'change.failed': {
      const d = data as unknown as LedgerData['change.failed'];
      return doc(paragraph(strong('Failed'), `: ${d.reason}`));
    }
    case 'change.audited': {
      const d = data as unknown as LedgerData['change.audited'];
      const audit = extra.audit;
      const modifiedBy = audit?.modifiedBy ? `${audit.modifiedBy.kind} ${audit.modifiedBy.id}` : undefined;
      return doc(
        paragraph(strong('Audited'), `: version ${d.version} of ${event.data.target ?? 'the object'} is this change's own write — the change is closed.`),
        bulletList([
          ['Audit workflow ', code(d.auditWorkflowId)],
          audit ? [`Found by: ${audit.source}`] : [],
          modifiedBy ? [`Modified by: ${modifiedBy}`] : [],
          [`Recorded in the audit ledger at ${event.timestamp} (row ${event.data.ledger.seq})`],
        ]),
      );
    }
    default:
      return undefined;
  }
}

/** The moment of the change's life a step is, for its ticket's transition. */
export function ticketMoment(event: ChangeEvent): TicketMoment | undefined {
  switch (event.type) {
    case 'change.approved': {
      const d = event.data as unknown as LedgerData['change.approved'];
      return d.approvals >= d.required ? 'approved' : undefined;
    }
    case 'change.rejected':
      return 'rejected';
    case 'change.withdrawn':
      return 'withdrawn';
    case 'change.expired':
      return 'expired';
    case 'change.cancelled':
      return 'cancelled';
    case 'change.deploying':
      return 'deploying';
    case 'change.audited':
      return 'done';
    case 'change.failed':
      return 'failed';
    case 'change.rolled_back':
      return 'rolled_back';
    case 'change.diverged':
      return 'diverged';
    default:
      return undefined;
  }
}

function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return count(ms / 86_400_000, 'day');
  if (ms % 3_600_000 === 0) return count(ms / 3_600_000, 'hour');
  if (ms % 60_000 === 0) return count(ms / 60_000, 'minute');
  return count(Math.round(ms / 1000), 'second');
}
