/**
 * What the Temporal Web UI shows of each Tollgate workflow (issue 12: "every change looks the same"): the static
 * summary and details that whoever starts a workflow sets (Temporal's user metadata: `staticSummary`, one line;
 * `staticDetails`, Temporal markdown), and the current details each workflow keeps up to date with
 * `setCurrentDetails` (its state, the reason, who). Pure functions of the workflows' own contracts, used by
 * `client/` (starts) and by workflow code (current details): deterministic, no I/O.
 *
 * Nothing secret goes here: what a workflow shows is already in its input or state (identities, fields of the
 * configuration object, payload hashes), never a credential.
 */
import type { AuditInput } from './audit-messages';
import type { ChangeInput, ChangeStatus } from './change-messages';
import type { InstallationEvent, InstallationView } from './installation-messages';
import type { TargetSnapshot } from './target-messages';
import { targetAddress, type TargetRef } from './workflow-ids';

/** The UI shows a summary on one line; longer is cut. */
const SUMMARY_LIMIT = 200;
/** Details are markdown of bounded size, so that a big payload never bloats every describe. */
const DETAILS_LIMIT = 4000;

/** The installation states that need an operator: the workflow cannot fail (it must outlive them), so it says so. */
export const INSTALLATION_ACTION_STATES: readonly string[] = ['provisioning_rolled_back', 'deprovisioning_failed'];

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= SUMMARY_LIMIT ? flat : `${flat.slice(0, SUMMARY_LIMIT - 1)}…`;
}

function bounded(text: string): string {
  return text.length <= DETAILS_LIMIT ? text : `${text.slice(0, DETAILS_LIMIT - 40)}\n… (${text.length} characters in all)`;
}

function fieldList(fields: readonly string[], max = 6): string {
  if (fields.length === 0) return 'no fields';
  return fields.length <= max ? fields.join(', ') : `${fields.slice(0, max).join(', ')} and ${fields.length - max} more`;
}

/** JSON in a fenced block, shortened to stay within the details' size. */
function jsonBlock(value: unknown, limit = 1500): string {
  let text = JSON.stringify(value, null, 2) ?? 'undefined';
  if (text.length > limit) text = `${text.slice(0, limit)}\n…`;
  return ['```json', text.replace(/```/g, "'''"), '```'].join('\n');
}

// --- changes -----------------------------------------------------------------------------------------------

/** "ivr/main-menu: greeting, queue — requested by alice" */
export function changeSummary(input: Pick<ChangeInput, 'target' | 'desired' | 'requester' | 'systemRevert' | 'replace'>): string {
  const fields = fieldList(Object.keys(input.desired).sort());
  const what = input.systemRevert ? `revert drift at version ${input.systemRevert.driftVersion}` : input.replace ? `replace: ${fields}` : fields;
  return oneLine(`${targetAddress(input.target)}: ${what} — requested by ${input.requester}`);
}

/** The request as submitted: who, why, the pull request, and the fields asked for. */
export function changeStaticDetails(input: ChangeInput): string {
  const lines = [
    `**Change** \`${input.changeId}\` on \`${targetAddress(input.target)}\``,
    `**Requested by** ${input.requester}${input.submission ? ' (signed)' : input.pullRequest ? ' (pull request author)' : ''}`,
    ...(input.reason ? [`**Reason** ${input.reason}`] : []),
    ...(input.pullRequest ? [`**Pull request** ${input.pullRequest.repository}#${input.pullRequest.number} \`${input.pullRequest.path}\``] : []),
    ...(input.systemRevert ? [`**Drift revert** started by \`${input.systemRevert.auditWorkflowId}\``] : []),
    '',
    `**Desired fields**${input.replace ? ' (the whole field set)' : ''}:`,
    jsonBlock(input.desired),
  ];
  return bounded(lines.join('\n'));
}

/** The change as it stands: state and reason, approvals and who gave them, the plan, the deploy. */
export function changeCurrentDetails(status: ChangeStatus): string {
  const lines = [`**${status.state}**${status.stateReason ? ` — ${status.stateReason}` : ''}`];
  if (status.requiredApprovals !== undefined) {
    const who = status.approvals.map((approval) => `${approval.approver} (${approval.via})`).join(', ');
    lines.push(`Approvals ${status.approvals.length}/${status.requiredApprovals}${who ? `: ${who}` : ''}`);
  }
  if (status.rejection) lines.push(`${status.state === 'cancelled' ? 'Withdrawn' : 'Rejected'} by ${status.rejection.by}: ${status.rejection.reason}`);
  const plan = status.plan;
  if (plan) {
    lines.push(`Plan on version ${plan.baseVersion}, payload sha256 \`${plan.payloadHash.slice(0, 16)}…\`: ${plan.diff.length} field${plan.diff.length === 1 ? '' : 's'}`);
    for (const change of plan.diff.slice(0, 12)) {
      const show = (value: unknown) => {
        const text = value === undefined ? '(absent)' : JSON.stringify(value);
        return text.length > 60 ? `${text.slice(0, 57)}…` : text;
      };
      lines.push(`- \`${change.field}\`: ${show(change.from)} → ${show(change.to)}`);
    }
    if (plan.diff.length > 12) lines.push(`- … and ${plan.diff.length - 12} more`);
  }
  if (status.live && status.state === 'awaiting_approval' && status.live.changedFields.length > 0) {
    lines.push(`Stale: ${status.live.changedFields.join(', ')} changed on the live object since the plan (approvals are refused)`);
  }
  const deploy = status.deploy;
  if (deploy) {
    lines.push(
      `Deploy: version ${deploy.preDeployVersion} → ${deploy.writtenVersion ?? '(nothing written)'}, verified ${deploy.verified}` +
        (deploy.rollback ? `, rolled back${deploy.rollback.version !== undefined ? ` to version ${deploy.rollback.version}` : ''} (verified ${deploy.rollback.verified})` : ''),
    );
  }
  if (status.divergedFields?.length) lines.push(`Diverged: ${status.divergedFields.join(', ')}${status.divergedBy ? ` (by ${status.divergedBy})` : ''}`);
  if (status.auditedBy) lines.push(`Audited by \`${status.auditedBy}\``);
  return bounded(lines.join('\n\n'));
}

// --- the per-object target workflow ------------------------------------------------------------------------

export function targetSummary(target: TargetRef): string {
  return oneLine(`${targetAddress(target)}: deploy lock and ledger of approved versions`);
}

export function targetCurrentDetails(snapshot: TargetSnapshot): string {
  const lines = [
    snapshot.holder ? `**Lock held** by \`${snapshot.holder.changeWorkflowId}\` since ${snapshot.holder.grantedAt}` : '**Lock free**',
    `Queue: ${snapshot.queue.length === 0 ? 'empty' : snapshot.queue.map((queued) => `\`${queued.changeWorkflowId}\``).join(', ')}`,
    snapshot.lastApproved ? `Last approved version ${snapshot.lastApproved.version} (change \`${snapshot.lastApproved.changeId}\`)` : 'No approved version yet',
    `Versions recorded: ${snapshot.ledger.length}; audits waiting for an answer: ${snapshot.pendingClassifications.length}`,
  ];
  return bounded(lines.join('\n\n'));
}

// --- audits ------------------------------------------------------------------------------------------------

function actor(modifiedBy: AuditInput['modifiedBy']): string {
  if (!modifiedBy) return 'someone';
  return `${modifiedBy.kind === 'client' ? 'OAuth client' : modifiedBy.kind} ${modifiedBy.name ?? modifiedBy.id}`;
}

export function auditSummary(input: AuditInput): string {
  const which = input.match === 'time' ? `change at ${new Date(input.version).toISOString()}` : `version ${input.version}`;
  return oneLine(`${targetAddress({ type: input.type, id: input.id })} ${which} by ${actor(input.modifiedBy)} (${input.source})`);
}

export function auditStaticDetails(input: AuditInput): string {
  return bounded(
    [
      `**Audit** of \`${targetAddress({ type: input.type, id: input.id })}\` ${input.match === 'time' ? 'change at' : 'version'} ${input.version}`,
      `Found by ${input.source}${input.eventId ? ` (event \`${input.eventId}\`)` : ''}${input.lastModifiedTime ? `, modified ${input.lastModifiedTime}` : ''}`,
      `Modified by ${actor(input.modifiedBy)}${input.byUs === undefined ? '' : input.byUs ? " (the gate's own OAuth client)" : ''}`,
    ].join('\n\n'),
  );
}

// --- lifecycle -----------------------------------------------------------------------------------------------

export function installationSummary(event: Pick<InstallationEvent, 'orgId' | 'integrationId' | 'tenantId'>): string {
  return oneLine(`installation of ${event.integrationId} in org ${event.orgId}${event.tenantId ? ` (tenant ${event.tenantId})` : ''}`);
}

export function installationCurrentDetails(view: InstallationView): string {
  const resources = Object.entries(view.resources)
    .filter(([, present]) => present === true)
    .map(([name]) => name);
  const lines = [
    ...(INSTALLATION_ACTION_STATES.includes(view.state)
      ? [`**Action needed: ${view.state}**${view.lastError ? ` at ${view.lastError.step}: ${view.lastError.message}` : ''} (an alert was raised; reconciliation retries)`]
      : [`**${view.state}**${view.enabled ? '' : ' (disabled)'}`]),
    `Generation ${view.generation}${view.tenantId ? `, tenant \`${view.tenantId}\`` : ''}; resources: ${resources.length > 0 ? resources.join(', ') : 'none'}`,
  ];
  if (view.lastError && !INSTALLATION_ACTION_STATES.includes(view.state)) lines.push(`Last error at ${view.lastError.step}: ${view.lastError.message}`);
  const last = view.lastEvents[view.lastEvents.length - 1];
  if (last) lines.push(`Last event: ${last.event} (${last.source}) → ${last.outcome}${last.detail ? `: ${last.detail}` : ''}`);
  if (view.compensationsRun.length > 0) lines.push(`Compensations run: ${view.compensationsRun.map((run) => `${run.step} ${run.outcome}`).join(', ')}`);
  if (view.tombstone) lines.push('Tombstone: uninstalled; an older install will not provision again');
  lines.push(`Events processed: ${view.eventsProcessed}; waiting: ${view.pendingEvents}`);
  return bounded(lines.join('\n\n'));
}

export function reconciliationSummary(scope: { integrationId?: string; reason?: string; confirmDeprovision?: boolean }): string {
  return oneLine(
    `reconciliation of ${scope.integrationId ?? 'every integration with installations'}${scope.reason ? ` (${scope.reason})` : ''}` +
      (scope.confirmDeprovision ? ', deprovisioning confirmed' : ''),
  );
}
