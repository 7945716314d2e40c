/**
 * A change as people read it (`tollgate change submit`, `status`, `rollback`): who asked for what on which object,
 * where it stands and why, its approvals, and its plan (views/plan-view.ts), with the deploy's result and the next
 * step. Three formats, as `--format` names them: `text` (a terminal), `markdown` (a pull-request comment: a heading,
 * the plan as a fenced `diff` block, folded when long) and `json` (the change's state and its plan view, for tools).
 */
import type { ChangeStatus } from '../workflows/change-messages';
import { targetAddress } from '../workflows/workflow-ids';
import { planView, renderPlan, type PlanFormat, type PlanView } from './plan-view';

export interface ChangeTicket {
  system: string;
  key: string;
  url: string;
}

export interface ChangeViewOptions {
  /** Show long strings of the plan whole. */
  full?: boolean;
  tickets?: ChangeTicket[];
  /** One more line at the end (e.g. which source answered). */
  note?: string;
}

/** The plan view of a change: its plan, and the worker's last read of the live object while it awaited approval. */
export function changePlanView(status: ChangeStatus): PlanView | undefined {
  if (!status.plan) return undefined;
  // Only a read made while the plan could still be approved says anything about the plan.
  const live = status.state === 'awaiting_approval' ? status.live : undefined;
  return planView(status.plan, live);
}

/** The `json` format: the change's state and its plan view, for tools. */
export function changeDocument(status: ChangeStatus): Record<string, unknown> {
  return {
    changeId: status.changeId,
    target: targetAddress(status.target),
    requester: status.requester,
    state: status.state,
    ...(status.stateReason ? { stateReason: status.stateReason } : {}),
    approvals: { count: status.approvals.length, required: status.requiredApprovals ?? null, by: status.approvals.map((approval) => approval.approver) },
    plan: changePlanView(status) ?? null,
  };
}

export function renderChange(status: ChangeStatus, format: PlanFormat, options: ChangeViewOptions = {}): string {
  if (format === 'json') return JSON.stringify(changeDocument(status), null, 2);
  const view = changePlanView(status);
  return format === 'markdown' ? markdownOf(status, view, options) : textOf(status, view, options);
}

function approvalsLine(status: ChangeStatus): string | undefined {
  if (status.requiredApprovals === undefined) return undefined;
  const who = status.approvals.map((approval) => approval.approver).join(', ') || 'none yet';
  return `${status.approvals.length}/${status.requiredApprovals} (${who})`;
}

function deployLine(status: ChangeStatus): string | undefined {
  const d = status.deploy;
  if (!d) return undefined;
  return (
    `version ${d.preDeployVersion} → ${d.writtenVersion ?? '(nothing written)'}, verified ${d.verified}, ` +
    `conflicts retried ${d.conflictsRetried}, Genesys calls ${d.genesysCalls}` +
    (d.rollback ? `, rolled back to version ${d.rollback.version ?? '?'} (verified ${d.rollback.verified})` : '')
  );
}

function textOf(status: ChangeStatus, view: PlanView | undefined, options: ChangeViewOptions): string {
  const lines = [
    `change ${status.changeId} on ${targetAddress(status.target)}, requested by ${status.requester}${status.reason ? ` (${status.reason})` : ''}`,
    `state: ${status.state}${status.stateReason ? ` — ${status.stateReason}` : ''}`,
  ];
  const approvals = approvalsLine(status);
  if (approvals) lines.push(`approvals: ${approvals}`);
  if (view) {
    lines.push(renderPlan(view, 'text', { full: options.full }));
    if (status.plan?.lock) lines.push(`lock: ${status.plan.lock}`);
  }
  const deploy = deployLine(status);
  if (deploy) lines.push(`deploy: ${deploy}`);
  if (status.pullRequest) {
    const pr = status.pullRequest;
    lines.push(`pull request: ${pr.repository}#${pr.number} ${pr.path} at ${pr.plannedCommit.slice(0, 12)} (author ${pr.author}; reviews on this commit count)`);
    for (const review of pr.notCounted) lines.push(`  review ${review.reviewId} by ${review.login} (${review.state}) not counted: ${review.reason}`);
  }
  for (const ticket of options.tickets ?? []) lines.push(`ticket: ${ticket.key} (${ticket.system}) ${ticket.url}`);
  if (status.state === 'awaiting_approval') {
    lines.push(`approve with: tollgate change approve ${status.changeId} --approver <name> --key <ssh-private-key>`);
    lines.push(`  or sign elsewhere: tollgate change statement ${status.changeId} --as <name> > statement.txt; ssh-keygen -Y sign -n tollgate -f <key> statement.txt;`);
    lines.push(`  tollgate change approve ${status.changeId} --approver <name> --signature statement.txt.sig`);
  }
  if (options.note) lines.push(`(${options.note})`);
  return lines.join('\n');
}

/** Markdown as a pull request renders it: inline code for names, the plan as a fenced `diff` block. */
function markdownOf(status: ChangeStatus, view: PlanView | undefined, options: ChangeViewOptions): string {
  const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;
  const facts = [
    `requested by **${status.requester}**${status.reason ? ` (${status.reason})` : ''}`,
    `state **${status.state}**${status.stateReason ? `: ${status.stateReason}` : ''}`,
  ];
  const approvals = approvalsLine(status);
  if (approvals) facts.push(`approvals ${approvals}`);
  const lines = [`#### Tollgate change ${code(status.changeId)} on ${code(targetAddress(status.target))}`, '', `${facts.join(' · ')}`, ''];
  if (view) {
    lines.push(renderPlan(view, 'markdown', { full: options.full }), '');
    if (status.plan?.lock) lines.push(`<sub>${status.plan.lock}</sub>`, '');
  } else {
    lines.push('_No plan yet._', '');
  }
  const deploy = deployLine(status);
  if (deploy) lines.push(`Deploy: ${deploy}`, '');
  for (const ticket of options.tickets ?? []) lines.push(`Ticket: [${ticket.key}](${ticket.url}) (${ticket.system})`, '');
  if (status.state === 'awaiting_approval') {
    const pr = status.pullRequest;
    lines.push(
      pr
        ? `Approve by reviewing commit ${code(pr.plannedCommit.slice(0, 12))} of this pull request (${status.requiredApprovals ?? 2} approving reviews by people other than ${pr.author}).`
        : `Approve with ${code(`tollgate change approve ${status.changeId} --approver <name> --key <ssh-private-key>`)}.`,
      '',
    );
  }
  if (options.note) lines.push(`_${options.note}_`, '');
  return lines.join('\n').trimEnd();
}
