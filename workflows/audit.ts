/**
 * `audit:<type>:<id>:<version>`: the audit of one version of one Genesys Cloud object. The ID derives from the
 * object and its version, so the webhook and the heartbeat's poll audit a change exactly once between them (SPEC;
 * seed Edge Case 3), and a replayed webhook finds the audit it already started.
 *
 * The object's target workflow says whether an approved deploy produced the version. If so, the change that
 * produced it is told (it moves to `audited`). If not, it is drift (the seed's "Admin Override" trap: someone
 * saved in the UI, or used the deploy credentials outside the gate): an alert, and, where the target type's
 * policy says `revert`, a change that restores the last approved state through the same lock, deploy and verify
 * path. That revert is the one pre-approved change; it is started as this workflow's child under the ID
 * `change:revert-<type>-<id>-<version>`, and the change workflow refuses the flag from anyone else.
 */
import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  condition,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChangeGateActivities } from '../activities/change-gate';
import { TollgateKind, TollgateSource, TollgateState, TollgateTarget } from '../platform/search-attributes';
import { auditVerdictQuery, classifiedSignal, type AuditInput, type AuditResult, type AuditVerdict } from './audit-messages';
import { changeWorkflow } from './change';
import { auditedSignal } from './change-messages';
import type { LedgerData, LedgerRecord } from './ledger-records';
import { appendToLedger } from './ledger-writer';
import { CLOCK_SKEW_MS, VERIFIED_MESSAGES_PATCH } from './target';
import type { Classification, ClassifyRequest } from './target-messages';
import { genesysTaskQueue } from './task-queues';
import { describeFailure } from './failures';
import { changeSummary } from './ui-metadata';
import { changeWorkflowId, revertChangeId, targetAddress } from './workflow-ids';

const gate = proxyActivities<ChangeGateActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Without a wake-up, an audit reads its answer this often, and asks the target again every few reads (issue 19). */
export const CLASSIFICATION_READ_INTERVAL = '1 minute';
export const CLASSIFICATION_READS_PER_REQUEST = 5;

export async function auditWorkflow(input: AuditInput): Promise<AuditResult> {
  const target = { type: input.type, id: input.id };
  const selfId = workflowInfo().workflowId;
  // Issue 19: `classified` only wakes the audit, which reads the target's answer to its own request; drift is
  // confirmed against Genesys Cloud before anything is alerted or reverted. Runs from before the marker replay as
  // they were.
  const verified = patched(VERIFIED_MESSAGES_PATCH);
  let verdictState: AuditVerdict = { version: input.version, verdict: 'pending' };
  setHandler(auditVerdictQuery, () => verdictState);
  upsertSearchAttributes([
    { key: TollgateKind, value: 'audit' },
    { key: TollgateTarget, value: targetAddress(target) },
    { key: TollgateSource, value: input.source },
    { key: TollgateState, value: 'pending' },
  ]);

  let classification: Classification | undefined;
  let pokes = 0;
  setHandler(classifiedSignal, (answer) => {
    if (verified) pokes += 1;
    else if (answer.version === input.version) classification = answer;
  });
  const request = {
    target,
    version: input.version,
    replyTo: selfId,
    modifiedBy: input.modifiedBy,
    taskQueue: workflowInfo().taskQueue,
    ...(input.byUs !== undefined ? { byUs: input.byUs } : {}),
    ...(input.match ? { match: input.match, at: input.lastModifiedTime } : {}),
  };
  await gate.requestClassification(request);
  setCurrentDetails(`**pending**: asked \`target:${target.type}:${target.id}\` whether an approved deploy produced this version`);
  if (verified) {
    const { target: _target, taskQueue: _queue, ...own } = request;
    let reads = 0;
    while (classification === undefined) {
      const seen = pokes;
      const woke = await condition(() => pokes !== seen, CLASSIFICATION_READ_INTERVAL);
      const answer = await gate.readClassification({ target, request: own as ClassifyRequest });
      if (answer) classification = answer;
      else if (!woke && ++reads % CLASSIFICATION_READS_PER_REQUEST === 0) await gate.requestClassification(request);
    }
  } else {
    await condition(() => classification !== undefined);
  }
  const verdict = classification as Classification;

  if (verdict.approved) {
    verdictState = { version: input.version, verdict: 'approved', ...(verdict.changeId ? { changeId: verdict.changeId } : {}) };
    upsertSearchAttributes([{ key: TollgateState, value: 'approved' }]);
    setCurrentDetails(`**approved**: produced by ${verdict.kind === 'rollback' ? 'the rollback of ' : ''}change \`${verdict.changeId ?? '?'}\``);
    // The verdict is in the audit trail before the change hears of it (its ticket closes on this record).
    await appendToLedger([
      verdictRecord('audit.approved', {
        target: targetAddress(target),
        version: input.version,
        ...(verdict.changeId ? { changeId: verdict.changeId } : {}),
        source: input.source,
        ...(input.modifiedBy ? { modifiedBy: { kind: input.modifiedBy.kind, id: input.modifiedBy.id } } : {}),
      }),
    ]);
    if (verdict.changeId) {
      try {
        await getExternalWorkflowHandle(changeWorkflowId(verdict.changeId)).signal(auditedSignal, { version: input.version, auditWorkflowId: selfId });
      } catch {
        // The change already finished (it stops waiting for its audit after a while): the audit still stands.
      }
    }
    return { target, version: input.version, source: input.source, verdict: 'approved', changeId: verdict.changeId, alerted: false };
  }

  if (verified) {
    // Not approved: only a version the object really reached is drift. An audit of a version it never had (started
    // by someone with a client on the namespace, or a mistaken poll) alerts nobody and reverts nothing.
    const problem = await unreachedVersion(input);
    if (problem) {
      verdictState = { version: input.version, verdict: 'unverified' };
      upsertSearchAttributes([{ key: TollgateState, value: 'unverified' }]);
      setCurrentDetails(`**unverified**: ${problem.reason}; nothing alerted or reverted`);
      await appendToLedger([
        verdictRecord('audit.unverified', {
          target: targetAddress(target),
          version: input.version,
          source: input.source,
          ...(problem.liveVersion !== undefined ? { liveVersion: problem.liveVersion } : {}),
          reason: problem.reason,
        }),
      ]);
      return { target, version: input.version, source: input.source, verdict: 'unverified', alerted: false };
    }
    verdictState = { version: input.version, verdict: 'drift' };
  }
  upsertSearchAttributes([{ key: TollgateState, value: 'drift' }]);
  const policy = await gate.loadChangePolicy(input.type);
  const who = input.modifiedBy ? `${input.modifiedBy.kind === 'client' ? 'OAuth client' : 'user'} ${input.modifiedBy.name ?? input.modifiedBy.id}` : 'someone';
  const canRevert = policy.onDrift === 'revert' && verdict.lastApproved !== undefined;
  const revertId = canRevert ? revertChangeId(target, input.version) : undefined;
  setCurrentDetails(
    `**drift**: changed outside the gate by ${who}; alert raised` +
      (revertId ? `; reverting to approved version ${verdict.lastApproved!.version} with change \`${revertId}\`` : policy.onDrift === 'revert' ? '; no approved state to revert to' : ' (policy: alert)'),
  );

  // The audit trail first: the drift and who did it are recorded even if the alert endpoint is down for long.
  await appendToLedger([
    verdictRecord('audit.drift', {
      target: targetAddress(target),
      version: input.version,
      source: input.source,
      ...(input.modifiedBy ? { modifiedBy: { kind: input.modifiedBy.kind, id: input.modifiedBy.id } } : {}),
      ...(revertId ? { revertChangeId: revertId } : {}),
    }),
  ]);
  await gate.sendAlert({
    kind: 'config_drift',
    summary:
      `${targetAddress(target)} version ${input.version} was changed outside the change gate by ${who}` +
      (revertId ? `; reverting to the last approved state (change ${revertId})` : policy.onDrift === 'revert' ? '; no approved state to revert to' : ''),
    details: {
      target: targetAddress(target),
      version: input.version,
      modifiedBy: input.modifiedBy,
      lastModifiedTime: input.lastModifiedTime,
      source: input.source,
      auditWorkflowId: selfId,
      lastApprovedVersion: verdict.lastApproved?.version,
      revertChangeId: revertId,
    },
  });

  if (revertId && verdict.lastApproved) {
    await appendToLedger([
      verdictRecord('audit.reverting', { target: targetAddress(target), version: input.version, revertChangeId: revertId, toVersion: verdict.lastApproved.version }),
    ]);
    try {
      await startChild(changeWorkflow, {
        workflowId: changeWorkflowId(revertId),
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: changeSummary({ target, desired: verdict.lastApproved.fields, requester: 'tollgate', replace: true, systemRevert: { auditWorkflowId: selfId, driftVersion: input.version } }),
        staticDetails: `**Drift revert** of \`${targetAddress(target)}\` version ${input.version} (by ${who}) to the approved version ${verdict.lastApproved.version}, started by \`${selfId}\``,
        args: [
          {
            changeId: revertId,
            target,
            desired: verdict.lastApproved.fields,
            replace: true,
            requester: 'tollgate',
            reason: `revert drift at version ${input.version} (by ${who}) to approved version ${verdict.lastApproved.version}`,
            systemRevert: { auditWorkflowId: selfId, driftVersion: input.version },
          },
        ],
      });
    } catch {
      // Already started (this audit ran before and was reset): the revert exists.
    }
  }
  return { target, version: input.version, source: input.source, verdict: 'drift', alerted: true, revertChangeId: revertId };
}

/** Why the object never reached the audited version (read from Genesys Cloud), or undefined when it did. */
async function unreachedVersion(input: AuditInput): Promise<{ reason: string; liveVersion?: number } | undefined> {
  const reads = proxyActivities<ChangeGateActivities>({
    taskQueue: genesysTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 4 },
  });
  const problem = (reason: string, liveVersion?: number) => ({ reason, ...(liveVersion !== undefined ? { liveVersion } : {}) });
  let live;
  try {
    live = await reads.readConfigObject({ type: input.type, id: input.id });
  } catch (error) {
    return problem(`${input.type}/${input.id} could not be read to confirm the change (${describeFailure(error)})`);
  }
  if (input.match === 'time') {
    const changedAt = Date.parse(live.lastModifiedTime);
    return Number.isFinite(changedAt) && changedAt >= input.version - CLOCK_SKEW_MS ? undefined : problem(`${input.type}/${input.id} was last modified at ${live.lastModifiedTime}, before the audited change`);
  }
  return live.version >= input.version ? undefined : problem(`${input.type}/${input.id} is at version ${live.version}; it never reached version ${input.version}`, live.version);
}

/** One verdict record of this audit (its key names the audit and the run: an audit never runs twice per version). */
function verdictRecord<K extends 'audit.approved' | 'audit.drift' | 'audit.reverting' | 'audit.unverified'>(kind: K, data: LedgerData[K]): LedgerRecord {
  const info = workflowInfo();
  return { key: `${info.workflowId}:${info.runId}:${kind}`, kind, subject: info.workflowId, data: data as Record<string, unknown> };
}
