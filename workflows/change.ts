/**
 * `change:<changeId>`: one configuration change, from plan to verified deploy (the change gate, seed 000).
 *
 *   submission proven? (requester's SSH signature, or the linked pull request) ── no ──► refused
 *   plan ──► awaiting_approval ──(N distinct approvers, each proven: an SSH signature over this run's statement,
 *     │            │             or a review on the planned commit of the linked pull request)──► approved
 *     │            ├─ signed reject ──► rejected   (the requester's signed withdrawal ──► cancelled)
 *     │            ├─ changes requested ──► rejected; pull request closed or pushed ──► cancelled
 *     │            └─ TTL ─────► expired
 *     └─ nothing to change ──► cancelled (no_change)
 *   approved ──(per-object lock, FIFO)──► deploying: read → re-merge → write → (409: wait, re-read, re-merge, retry)
 *     ├─ someone changed a field this change touches ──► diverged (nothing written)
 *     ├─ read-back matches ──► deployed ──(audit of the written version)──► audited
 *     └─ read-back mismatch ──► rollback, verified ──► rolled_back (alert)   (rollback unverified ──► failed)
 *
 * Nothing in this file touches the world: Genesys calls, signature checks, reading the pull request, alerts and
 * messages to other workflows are activities. The workflow's result is the final ChangeStatus.
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChangeGateActivities } from '../activities/change-gate';
import { canonicalPrincipal } from '../approvals/principal';
import { TollgateKind, TollgatePullRequest, TollgateRequester, TollgateState, TollgateTarget } from '../platform/search-attributes';
import {
  approvalsQuery,
  approveUpdate,
  auditedSignal,
  checkLiveUpdate,
  deployOutcomeQuery,
  FINAL_STATES,
  OPERATOR_STATES,
  lockGrantedSignal,
  planQuery,
  pullRequestChangedSignal,
  pullRequestKey,
  rejectUpdate,
  statusQuery,
  type ChangeInput,
  type ChangePolicy,
  type ChangeState,
  type ChangeStatus,
  type DeployResult,
  type LiveCheck,
  type ObjectSnapshot,
  type SignedDecision,
  type WriteRequest,
  withoutStateName,
} from './change-messages';
import { approvalRefusal, decisionStatementText, rejectionRefusal, type ApprovalContext } from './change-policy';
import { applyChanges, divergedFields, fieldsEqual, readBackMismatch, restoreUntouchedByPeople, valuesEqual, type Fields } from './config-merge';
import { describeFailure, FailureType, rootFailure } from './failures';
import { changeCurrentDetails } from './ui-metadata';
import type { LedgerData, LedgerKind, LedgerRecord } from './ledger-records';
import { appendToLedger } from './ledger-writer';
import { VERIFIED_MESSAGES_PATCH } from './target';
import { releaseSignal, type ProducedVersion, type UnconfirmedWrite } from './target-messages';
import { genesysTaskQueue } from './task-queues';
import { changeWorkflowId, revertChangeId, targetAddress, targetWorkflowId } from './workflow-ids';

/** How many 409s one write survives before the change fails (seed Edge Case 1: retry with backoff, bounded). */
export const MAX_CONFLICT_RETRIES = 8;
/** Unknown outcomes settled by reading before the change gives up. */
export const MAX_UNKNOWN_OUTCOMES = 5;

/** Seed Edge Case 1: "Wait for 1 second", then back off exponentially (capped), with a little jitter so that
 * writers that collided do not collide again in step. */
export function conflictBackoffMs(conflicts: number, random: number): number {
  const base = Math.min(1000 * 2 ** Math.max(0, conflicts - 1), 30_000);
  return Math.round(base * (0.9 + 0.2 * random));
}

const gate = proxyActivities<ChangeGateActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '30 seconds', maximumAttempts: 20 },
});

/** Genesys-calling activities run on the rate-limited Genesys task queue. They heartbeat while a call is in
 * flight, so a worker that dies mid-call is noticed within the heartbeat timeout. */
function genesysActivities() {
  return proxyActivities<ChangeGateActivities>({
    taskQueue: genesysTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
  });
}

/**
 * A deploy's reads of the object (issue 14: one hop fewer each): local activities, run by the worker already running
 * this workflow task, with no dispatch through the server. They take their permits from the same shared Genesys
 * budget as every other request (genesys/request-budget.ts), so the per-client limit holds across workers however
 * the request is scheduled; a wait for a permit keeps the workflow task open (the worker extends it).
 */
function genesysLocalReads() {
  return proxyLocalActivities<ChangeGateActivities>({
    startToCloseTimeout: '2 minutes',
    localRetryThreshold: '10 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
  });
}

/**
 * The deploy path of issue 14, for changes that reach their deploy on this code: the lock granted in the answer of
 * an update (no grant signal to wait for when the object is free), reads as local activities, and the read-back in
 * the write's own activity. Changes already past this point on older code (their histories lack the marker) keep
 * the path they started on: enqueue signal, `lockGranted`, one activity per request.
 */
export const FAST_DEPLOY_PATCH = 'deploy-lock-update-and-fewer-hops';
/** The write's ledger record appended with the verdict when the read-back came with the write (issue 14). */
export const WRITTEN_WITH_VERDICT_PATCH = 'ledger-written-with-verdict';

/** checkLive reads Genesys Cloud at most LIVE_CHECKS_PER_WINDOW times per window per change (issue 19); a refused
 * one says `rate_limited`. */
export const LIVE_CHECK_WINDOW_MS = 60_000;
export const LIVE_CHECKS_PER_WINDOW = 10;
/** A `pullRequestChanged` wake-up re-reads the pull request at most this often. */
export const PULL_REQUEST_POKE_INTERVAL_MS = 5_000;
/** A `lockGranted` wake-up asks the target again at most this often; without one, the change asks every 5 minutes. */
export const LOCK_REASK_INTERVAL_MS = 2_000;
export const LOCK_REASK_IDLE = '5 minutes';
/** Bad signatures checked per principal; after that the validator refuses the principal's decisions unseen. */
export const BAD_SIGNATURES_CHECKED = 5;
/** Distinct refusals (decision, code, principal) recorded per change; repeats are refused by the validator unseen. */
export const REFUSALS_RECORDED = 50;

/** Reading the linked pull request: a failure (GitHub down) is retried at the next re-check, not here. */
const pullRequestReader = proxyActivities<ChangeGateActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 3 },
});

type WriteResult =
  | { kind: 'written'; object: ObjectSnapshot; fields: Fields; base: ObjectSnapshot; requestId?: string; readBack?: ObjectSnapshot }
  | { kind: 'in_effect'; object: ObjectSnapshot }
  | { kind: 'diverged'; fields: string[]; object: ObjectSnapshot }
  | { kind: 'gave_up'; reason: string };

class ChangeRecord {
  readonly status: ChangeStatus;
  policy?: ChangePolicy;
  lockGranted = false;
  /** Bumped by the pullRequestChanged signal: the awaiting loop re-reads the pull request at once. */
  pullRequestPokes = 0;
  /** Versions of this object that audits reported approved, and by which audit workflow. */
  readonly audits: Record<number, string> = {};
  /** Issue 19: messages are wake-ups. `lockGranted` bumps this (the change asks the target again); `audited` names
   * an audit to read; refusals are recorded once per decision, code and principal. */
  lockPokes = 0;
  readonly auditHints: string[] = [];
  readonly refusalKeys = new Set<string>();
  readonly badSignatures: Record<string, number> = {};
  /** When the checkLive updates of the last window were accepted. */
  liveChecks: number[] = [];
  pullRequestReadAt?: number;
  /** What the deploy produced, for the target's `deployOutcome` read; `released` once the lock was let go. */
  readonly outcome: { produced: ProducedVersion[]; unconfirmed: UnconfirmedWrite[]; released: boolean } = { produced: [], unconfirmed: [], released: false };
  readonly messageRefusals = new Set<string>();
  /** Issue 19's rule holds for this run (false only for runs that started before it: they replay as they were). */
  readonly verified = patched(VERIFIED_MESSAGES_PATCH);
  /** Audit ledger records not yet appended (issue 10): `flush()` writes them, in order. */
  private readonly ledgerQueue: LedgerRecord[] = [];
  private readonly ledgerCounts: Partial<Record<LedgerKind, number>> = {};

  constructor(readonly input: ChangeInput) {
    const info = workflowInfo();
    this.status = {
      changeId: input.changeId,
      namespace: info.namespace,
      runId: info.runId,
      target: input.target,
      requester: input.requester,
      reason: input.reason,
      desired: input.desired,
      replace: input.replace ?? false,
      systemRevert: input.systemRevert,
      ...(input.pullRequest ? { linkedPullRequest: input.pullRequest } : {}),
      state: 'planning',
      approvals: [],
      timestamps: { planning: new Date().toISOString() },
    };
  }

  /** A method, not a getter: handlers change the state while the workflow awaits, which narrowing cannot see. */
  get state(): ChangeState {
    return this.currentState();
  }

  currentState(): ChangeState {
    return this.status.state;
  }

  enter(state: ChangeState, reason?: string): void {
    this.status.state = state;
    if (reason !== undefined) this.status.stateReason = withoutStateName(state, reason);
    this.status.timestamps[state] = new Date().toISOString();
    upsertSearchAttributes([{ key: TollgateState, value: state }]);
    this.recordState(state);
    this.publish();
    // One info line per milestone (issue 12: a whole change used to log nothing at info); replay-safe.
    log.info(`change ${this.input.changeId} ${state}${this.status.stateReason && reason !== undefined ? `: ${this.status.stateReason}` : ''}`, {
      changeId: this.input.changeId,
      target: targetAddress(this.input.target),
      state,
      ...(reason !== undefined ? { reason: this.status.stateReason } : {}),
    });
  }

  /** The Temporal UI's current details: state, reason, approvals and who gave them, the plan, the deploy. */
  publish(): void {
    setCurrentDetails(changeCurrentDetails(this.status));
  }

  /**
   * Queues one audit ledger record (flushed by `flush()`). Its key names the change, the run and the record, so an
   * append retried after a lost answer finds its row (`discriminator` tells apart records of one kind).
   */
  record<K extends keyof LedgerData & LedgerKind>(kind: K, data: LedgerData[K], discriminator?: string): void {
    this.logMilestone(kind, data as Record<string, unknown>);
    const count = (this.ledgerCounts[kind] ?? 0) + 1;
    this.ledgerCounts[kind] = count;
    const info = workflowInfo();
    this.ledgerQueue.push({
      key: `${info.workflowId}:${info.runId}:${kind}:${discriminator ?? count}`,
      kind,
      subject: info.workflowId,
      data: data as Record<string, unknown>,
    });
  }

  /** The milestones that are records rather than states: submitted, each approval (and refusal), each write. */
  private logMilestone(kind: string, data: Record<string, unknown>): void {
    const base = { changeId: this.input.changeId, target: targetAddress(this.input.target) };
    if (kind === 'change.submitted') log.info(`change ${this.input.changeId} submitted by ${this.status.requester}`, { ...base, requester: this.status.requester });
    else if (kind === 'change.approved') log.info(`change ${this.input.changeId} approved by ${data.principal} (${data.approvals}/${data.required}, ${data.via})`, { ...base, principal: data.principal, via: data.via });
    else if (kind === 'change.approval_refused') log.info(`change ${this.input.changeId}: approval by ${data.principal} refused (${data.code})`, { ...base, principal: data.principal, code: data.code });
    else if (kind === 'change.written') log.info(`change ${this.input.changeId} written: version ${data.versionBefore} → ${data.versionAfter} (${data.kind})`, { ...base, versionBefore: data.versionBefore, versionAfter: data.versionAfter, kind: data.kind });
  }

  async flush(): Promise<void> {
    await appendToLedger(this.ledgerQueue.splice(0));
  }

  /** The state-shaped records: every final state, deploying and verified, with the status's reason. */
  private recordState(state: ChangeState): void {
    const reason = this.status.stateReason ?? state;
    const deploy = this.status.deploy;
    switch (state) {
      case 'refused':
        return this.record('change.refused', { reason });
      case 'expired':
        return this.record('change.expired', { afterMs: this.policy?.approvalTtlMs ?? 0 });
      case 'rejected':
        return this.record('change.rejected', {
          by: this.status.rejection?.by ?? 'unknown',
          reason: this.status.rejection?.reason ?? reason,
          ...(this.status.rejection?.via ? { via: this.status.rejection.via } : {}),
        });
      case 'cancelled':
        if (this.status.rejection && this.status.rejection.by === this.approvalContext().requester) {
          return this.record('change.withdrawn', { by: this.status.rejection.by, reason: this.status.rejection.reason, via: this.status.rejection.via });
        }
        return this.record('change.cancelled', { reason });
      case 'deploying':
        return this.record('change.deploying', { baseVersion: this.status.plan?.baseVersion ?? 0 });
      case 'deployed':
        return this.record('change.verified', { version: deploy?.writtenVersion ?? deploy?.preDeployVersion ?? 0, reason });
      case 'rolled_back':
        return this.record('change.rolled_back', {
          mismatch: deploy?.rollback?.mismatch ?? [],
          ...(deploy?.rollback?.version !== undefined ? { rollbackVersion: deploy.rollback.version } : {}),
          verified: deploy?.rollback?.verified ?? false,
        });
      case 'diverged':
        return this.record('change.diverged', { fields: this.status.divergedFields ?? [], ...(this.status.divergedBy ? { by: this.status.divergedBy } : {}), reason });
      case 'failed':
        return this.record('change.failed', { reason });
      case 'audited':
        return this.record('change.audited', { version: deploy?.writtenVersion ?? 0, auditWorkflowId: this.status.auditedBy ?? '' });
      default:
        return;
    }
  }

  approvalContext(): ApprovalContext {
    return {
      namespace: this.status.namespace,
      changeId: this.input.changeId,
      runId: this.status.runId,
      target: this.input.target,
      state: this.state,
      requester: canonicalPrincipal(this.status.requester) ?? '',
      approvers: this.policy?.approvers ?? [],
      approvals: this.status.approvals,
      plan: this.status.plan,
    };
  }

  /** The statement `principal` must have signed to make this decision on this run (what the activity verifies). */
  statementFor(decision: 'approve' | 'reject', principal: string): string {
    return decisionStatementText({ ...this.approvalContext(), plan: this.status.plan! }, decision, principal);
  }

  approved(): boolean {
    return !!this.policy && this.status.approvals.length >= this.policy.requiredApprovals;
  }

  /** Whether a refusal the validator found is admitted once so that the handler records it (read only: a validator
   * must not change state; the handler marks it). */
  refusalAdmissible(key: string): boolean {
    return !this.refusalKeys.has(key) && this.refusalKeys.size < REFUSALS_RECORDED;
  }

  /** A message that did not hold up when checked: recorded once per message and reason. */
  refuseMessage(message: string, reason: string, hint?: string): void {
    const key = `${message}:${reason}`;
    if (this.messageRefusals.has(key) || this.messageRefusals.size >= REFUSALS_RECORDED) return;
    this.messageRefusals.add(key);
    this.record('change.message_refused', { message, reason, ...(hint ? { hint } : {}) }, `${message}-${this.messageRefusals.size}`);
  }
}

/** Who a refused decision names, as the ledger records it (a blank or malformed name as given, bounded). */
function refusalPrincipal(approver: unknown): string {
  return typeof approver === 'string' ? (canonicalPrincipal(approver) ?? approver.trim()).slice(0, 100) : '';
}

/** The coalescing key of a refused decision. */
function refusalKey(decision: 'approve' | 'reject', code: string, approver: unknown): string {
  return `${decision}:${code}:${refusalPrincipal(approver)}`;
}

function refuse(code: string, message: string, type: string = FailureType.ApprovalRefused): ApplicationFailure {
  return ApplicationFailure.create({ type, message: `${code}: ${message}`, details: [code], nonRetryable: true });
}

export async function changeWorkflow(input: ChangeInput): Promise<ChangeStatus> {
  const change = new ChangeRecord(input);
  const { target } = input;

  upsertSearchAttributes([
    { key: TollgateKind, value: 'change' },
    { key: TollgateTarget, value: targetAddress(target) },
    { key: TollgateRequester, value: input.requester },
    { key: TollgateState, value: 'planning' },
    ...(input.pullRequest ? [{ key: TollgatePullRequest, value: pullRequestKey(input.pullRequest) }] : []),
  ]);

  change.publish();
  setHandler(statusQuery, () => change.status);
  setHandler(planQuery, () => change.status.plan);
  setHandler(approvalsQuery, () => ({ required: change.policy?.requiredApprovals, approvals: change.status.approvals }));
  // Issue 19: anyone with a client on the namespace can send these. A message is a wake-up: the change asks the
  // target again, reads the audit it names, re-reads the pull request. Runs from before the marker replay as they were.
  const verified = change.verified;
  setHandler(deployOutcomeQuery, () => ({
    changeId: input.changeId,
    target: input.target,
    released: change.outcome.released,
    produced: change.outcome.produced,
    unconfirmed: change.outcome.unconfirmed,
  }));
  setHandler(lockGrantedSignal, () => {
    if (verified) change.lockPokes += 1;
    else change.lockGranted = true;
  });
  setHandler(auditedSignal, (message) => {
    if (!verified) {
      change.audits[message.version] = message.auditWorkflowId;
      return;
    }
    const hint = message?.auditWorkflowId;
    if (typeof hint === 'string' && hint.startsWith('audit:') && hint.length <= 1000 && !change.auditHints.includes(hint) && change.auditHints.length < 20) change.auditHints.push(hint);
  });

  setHandler(pullRequestChangedSignal, () => {
    change.pullRequestPokes += 1;
  });

  /** The signature over the statement this run needs, checked by an activity against the allowed signers. A
   * refusal decided here (after the validator passed) is recorded in the audit ledger with its reason. */
  const verifyDecision = async (request: SignedDecision, decision: 'approve' | 'reject', failureType: string) => {
    const principal = canonicalPrincipal(request.approver)!;
    const verdict = await gate.verifyDecisionSignature({ statement: change.statementFor(decision, principal), principal, signature: request.signature });
    if (!verdict.ok) {
      if (verified) change.badSignatures[principal] = (change.badSignatures[principal] ?? 0) + 1;
      change.record('change.approval_refused', { principal, code: verdict.code, reason: verdict.message });
      await change.flush();
      throw refuse(verdict.code, verdict.message, failureType === FailureType.ApprovalRefused ? FailureType.BadApprovalSignature : failureType);
    }
    return { principal, keyFingerprint: verdict.fingerprint };
  };

  /** A refusal the validator admitted (the first of its kind): recorded in the ledger, then refused (issue 19). */
  const recordAdmittedRefusal = async (decision: 'approve' | 'reject', request: SignedDecision, refusal: { code: string; message: string }, failureType: string) => {
    change.refusalKeys.add(refusalKey(decision, refusal.code, request?.approver));
    const principal = refusalPrincipal(request?.approver);
    change.record('change.approval_refused', { principal, code: refusal.code, reason: refusal.message, ...(decision === 'reject' ? { decision } : {}) }, `${decision}-${refusal.code}-${change.refusalKeys.size}`);
    await change.flush();
    throw refuse(refusal.code, refusal.message, failureType);
  };
  /** The validator: a refusal is answered unseen, except the first of its kind (recorded by the handler); a principal
   * whose signatures failed too often is refused unseen. */
  const validateDecision = (decision: 'approve' | 'reject', request: SignedDecision, refusal: { code: string; message: string } | undefined, failureType: string) => {
    if (refusal) {
      if (verified && change.refusalAdmissible(refusalKey(decision, refusal.code, request?.approver))) return;
      throw refuse(refusal.code, refusal.message, failureType);
    }
    const principal = canonicalPrincipal(request.approver)!;
    if (verified && (change.badSignatures[principal] ?? 0) >= BAD_SIGNATURES_CHECKED) {
      throw refuse('too_many_bad_signatures', `${BAD_SIGNATURES_CHECKED} signatures of ${principal} failed on this change; further decisions by ${principal} are refused`, failureType);
    }
  };

  setHandler(
    approveUpdate,
    async (request) => {
      if (verified) {
        const refusal = approvalRefusal(change.approvalContext(), request);
        if (refusal) return recordAdmittedRefusal('approve', request, refusal, FailureType.ApprovalRefused);
      }
      const { principal, keyFingerprint } = await verifyDecision(request, 'approve', FailureType.ApprovalRefused);
      // A plan whose object moved under it (a field it touches changed since) is stale: approving it would only end
      // `diverged` at the deploy. One read per signed approval (the request budget allows it). Behind patched():
      // histories recorded before this check replay without its activity.
      if (patched('stale-plan-check')) {
        const live = await checkLive(change);
        if (live.changedFields.length > 0) {
          const message = staleMessage(change, live);
          change.record('change.approval_refused', { principal, code: 'stale_plan', reason: message });
          await change.flush();
          throw refuse('stale_plan', message);
        }
      }
      // The change may have moved on (expired, rejected, another approval by the same person) while we verified.
      const late = approvalRefusal(change.approvalContext(), request);
      if (late) {
        change.record('change.approval_refused', { principal, code: late.code, reason: late.message });
        await change.flush();
        throw refuse(late.code, late.message);
      }
      change.status.approvals.push({
        approver: principal,
        payloadHash: change.status.plan!.payloadHash,
        approvedAt: new Date().toISOString(),
        via: 'signature',
        keyFingerprint,
      });
      change.record(
        'change.approved',
        {
          principal,
          via: 'signature',
          payloadHash: change.status.plan!.payloadHash,
          ...(keyFingerprint ? { keyFingerprint } : {}),
          statement: request.statement,
          signature: request.signature,
          approvals: change.status.approvals.length,
          required: change.policy?.requiredApprovals ?? 0,
        },
        principal,
      );
      // The approval that meets the policy answers CI with `approved`, not the state it found.
      if (change.approved()) change.enter('approved');
      else change.publish();
      await change.flush();
      return change.status;
    },
    {
      validator: (request) => {
        // A refusal here never reaches history; the caller gets the code (SPEC: refused with a reason, changes
        // nothing). Issue 19: the first of each kind is admitted so that the ledger has it.
        validateDecision('approve', request, approvalRefusal(change.approvalContext(), request), FailureType.ApprovalRefused);
      },
    },
  );

  setHandler(
    rejectUpdate,
    async (request) => {
      if (verified) {
        const refusal = rejectionRefusal(change.approvalContext(), request);
        if (refusal) return recordAdmittedRefusal('reject', request, refusal, FailureType.RejectionRefused);
      }
      const { principal } = await verifyDecision(request, 'reject', FailureType.RejectionRefused);
      const late = rejectionRefusal(change.approvalContext(), request);
      if (late) throw refuse(late.code, late.message, FailureType.RejectionRefused);
      const at = new Date().toISOString();
      change.status.rejection = { by: principal, reason: request.reason, at, via: 'signature' };
      if (principal === change.approvalContext().requester) change.enter('cancelled', `withdrawn by ${principal}: ${request.reason}`);
      else change.enter('rejected', `by ${principal}: ${request.reason}`);
      await change.flush();
      return change.status;
    },
    {
      validator: (request) => {
        validateDecision('reject', request, rejectionRefusal(change.approvalContext(), request), FailureType.RejectionRefused);
      },
    },
  );

  setHandler(
    checkLiveUpdate,
    () => {
      if (verified) change.liveChecks = [...change.liveChecks.filter((at) => at > Date.now() - LIVE_CHECK_WINDOW_MS), Date.now()];
      return checkLive(change);
    },
    {
      validator: () => {
        if (change.currentState() !== 'awaiting_approval' || !change.status.plan) {
          throw refuse('not_awaiting_approval', `change ${input.changeId} is ${change.currentState()}: its live object is read only while it awaits approval`);
        }
        // At most LIVE_CHECKS_PER_WINDOW Genesys reads per change and window, so nobody can grow the history (or
        // spend the request budget) by asking (issue 19). The last read stays in the status.
        if (verified && change.liveChecks.filter((at) => at > Date.now() - LIVE_CHECK_WINDOW_MS).length >= LIVE_CHECKS_PER_WINDOW) {
          throw refuse('rate_limited', `the live object of change ${input.changeId} was read ${LIVE_CHECKS_PER_WINDOW} times in the last ${LIVE_CHECK_WINDOW_MS / 1000} s; its status has the last read`);
        }
      },
    },
  );

  try {
    await runChange(change);
  } catch (error) {
    if (isCancellation(error)) {
      if (!isFinal(change.state) && change.state !== 'deployed') change.enter('cancelled', 'by an operator (the workflow was cancelled)');
    } else {
      const wasDeploying = change.state === 'deploying';
      change.enter('failed', failureReason(error));
      if (wasDeploying) {
        await alert('change_failed', `change ${input.changeId} on ${targetAddress(target)} failed while deploying: ${change.status.stateReason}`, change).catch(
          () => undefined,
        );
      }
    }
  }
  await change.flush();
  await condition(allHandlersFinished);
  await change.flush();
  // An outcome an operator must act on ends the workflow as a failure (the UI's Failed count, its status column);
  // the status stays readable by query and is the failure's first detail. Behind patched(): a change that completed
  // under the older rule replays as completed.
  if (OPERATOR_STATES.includes(change.state) && patched('operator-outcomes-fail')) {
    throw ApplicationFailure.create({
      type: change.state === 'rolled_back' ? FailureType.ChangeRolledBack : FailureType.ChangeFailed,
      message: `change ${input.changeId} on ${targetAddress(target)} ${change.state}: ${change.status.stateReason ?? ''}`.trim(),
      details: [change.status],
      nonRetryable: true,
    });
  }
  return change.status;
}

/** Reads the live object (one GET on the Genesys task queue) and keeps what it found in the status. */
async function checkLive(change: ChangeRecord): Promise<LiveCheck> {
  const plan = change.status.plan!;
  const live = await genesysActivities().checkLiveObject({ target: change.input.target, versionRule: change.policy?.versionRule ?? 'increment', diff: plan.diff });
  change.status.live = live;
  change.publish();
  return live;
}

/** Why an approval of a stale plan is refused, and what to do instead. */
function staleMessage(change: ChangeRecord, live: LiveCheck): string {
  const plan = change.status.plan!;
  const moved = live.versioned ? ` (version ${plan.baseVersion} → ${live.version}${live.modifiedBy ? `, last by ${live.modifiedBy}` : ''})` : live.modifiedBy ? ` (last by ${live.modifiedBy})` : '';
  return (
    `${live.changedFields.join(', ')} changed on ${targetAddress(change.input.target)} since the plan${moved}: this plan is stale; ` +
    `resubmit the change under a new change ID to plan against the current state`
  );
}

function isFinal(state: ChangeState): boolean {
  return FINAL_STATES.includes(state);
}

function failureReason(error: unknown): string {
  const failure = rootFailure(error);
  if (failure.type === FailureType.GenesysNotFound) return `target_not_found: ${failure.message}`.trim();
  return describeFailure(error);
}

async function runChange(change: ChangeRecord): Promise<void> {
  const { input } = change;
  if (!input.systemRevert && !(await proveSubmission(change))) return;
  change.record('change.submitted', {
    changeId: input.changeId,
    target: targetAddress(input.target),
    requester: change.status.requester,
    ...(input.reason ? { reason: input.reason } : {}),
    desired: input.desired,
    ...(change.status.pullRequest ? { pullRequest: pullRequestKey(change.status.pullRequest) } : {}),
    ...(change.status.submittedBy ? { proof: change.status.submittedBy } : input.systemRevert ? { proof: { requester: 'tollgate', via: 'system' as const } } : {}),
    ...(input.submission ? { signature: input.submission.signature } : {}),
  });
  change.policy = await gate.loadChangePolicy(input.target.type);
  const plan = await genesysActivities().planChange({ target: input.target, desired: input.desired, replace: input.replace });
  change.status.plan = plan;
  change.status.requiredApprovals = change.policy.requiredApprovals;
  change.record('change.planned', {
    baseVersion: plan.baseVersion,
    payloadHash: plan.payloadHash,
    diff: plan.diff,
    baseFields: plan.baseFields,
    payload: plan.payload,
    requiredApprovals: change.policy.requiredApprovals,
  });
  await change.flush();

  if (change.state !== 'planning') return;
  if (plan.diff.length === 0) {
    change.enter('cancelled', 'no_change: the object already has the desired fields');
    return;
  }

  if (input.systemRevert) {
    // The one pre-approved change: a drift revert, started by the audit workflow that found the drift, under the
    // ID derived from the drifted version. Anything else claiming to be one is refused.
    const info = workflowInfo();
    const expectedId = changeWorkflowId(revertChangeId(input.target, input.systemRevert.driftVersion));
    const parent = info.parent?.workflowId;
    if (info.workflowId !== expectedId || parent !== input.systemRevert.auditWorkflowId || !parent.startsWith('audit:')) {
      change.enter('failed', 'system_revert_refused: a system revert must be started by its audit workflow');
      return;
    }
    change.status.submittedBy = { requester: 'tollgate', via: 'system' };
    change.status.approvals.push({ approver: 'tollgate', payloadHash: plan.payloadHash, approvedAt: new Date().toISOString(), via: 'system', system: true });
    change.record('change.approved', { principal: 'tollgate', via: 'system', payloadHash: plan.payloadHash, approvals: 1, required: 1 }, 'tollgate');
  } else {
    change.enter('awaiting_approval');
    if ((await awaitDecision(change)) === 'expired') {
      change.enter('expired', `not approved within ${Math.round(change.policy.approvalTtlMs / 1000)} s`);
      return;
    }
    await change.flush();
    if (!change.approved() || change.currentState() !== 'approved') return; // rejected or withdrawn
  }

  if (change.currentState() !== 'approved') change.enter('approved');
  await deployUnderLock(change);
  if (change.currentState() === 'deployed' && change.status.deploy?.writtenVersion !== undefined) {
    // The webhook (or the heartbeat's poll) audits the written version and tells us (SPEC: every change audited).
    const written = change.status.deploy.writtenVersion;
    // A type without a version is audited by time: any audit the ledger matched to this change's write is its audit.
    const versioned = change.policy.versionRule !== 'none';
    const auditOf = () => (versioned ? change.audits[written] : Object.values(change.audits)[0]);
    const audited = change.verified
      ? await awaitConfirmedAudit(change, versioned ? written : undefined, change.policy.auditWaitMs)
      : await condition(() => auditOf() !== undefined, change.policy.auditWaitMs);
    const what = versioned ? `version ${written}` : 'the write';
    if (audited) {
      change.status.auditedBy = auditOf();
      change.enter('audited', `verified ${versioned ? `at version ${written}` : 'by read-back'}; audited by ${auditOf()}`);
    }
    else change.status.stateReason = `deployed and verified; no audit of ${what} within ${Math.round(change.policy.auditWaitMs / 1000)} s`;
  }
}

/**
 * Issue 19: an `audited` message names an audit; the change believes it only once that audit's own verdict (read by
 * an activity) is `approved` for this change (and, for a versioned type, is the audit of the written version).
 */
async function awaitConfirmedAudit(change: ChangeRecord, version: number | undefined, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    while (change.auditHints.length > 0) {
      const hint = change.auditHints[0];
      const { problem } = await gate.confirmAudit({
        auditWorkflowId: hint,
        changeId: change.input.changeId,
        target: change.input.target,
        ...(version !== undefined ? { version } : {}),
        taskQueue: workflowInfo().taskQueue,
      });
      change.auditHints.shift();
      if (!problem) {
        change.audits[version ?? 0] = hint;
        return true;
      }
      change.refuseMessage('audited', problem, hint);
    }
    await change.flush();
    const remaining = deadline - Date.now();
    if (remaining <= 0) return false;
    if (!(await condition(() => change.auditHints.length > 0, remaining))) return false;
  }
}

/**
 * Who submitted the change, proven by an activity before anything is planned: the requester's SSH signature over
 * the `submit` statement, or the linked pull request (its author, its head commit holding exactly these fields).
 * An unproven submission ends `refused`; nothing is read or written.
 */
async function proveSubmission(change: ChangeRecord): Promise<boolean> {
  const { input } = change;
  const verdict = await gate.verifySubmission({
    namespace: change.status.namespace,
    changeId: input.changeId,
    target: input.target,
    desired: input.desired,
    replace: input.replace,
    reason: input.reason,
    requester: input.requester,
    submission: input.submission,
    pullRequest: input.pullRequest,
  });
  if (!verdict.ok) {
    change.enter('refused', `${verdict.code}: ${verdict.message}`);
    return false;
  }
  change.status.requester = verdict.proof.requester;
  change.status.submittedBy = verdict.proof;
  if (verdict.pullRequest) change.status.pullRequest = verdict.pullRequest;
  upsertSearchAttributes([
    { key: TollgateRequester, value: verdict.proof.requester },
    ...(verdict.pullRequest ? [{ key: TollgatePullRequest, value: pullRequestKey(verdict.pullRequest) }] : []),
  ]);
  return true;
}

/**
 * Waits for the policy to be met, a rejection, or the TTL. A change linked to a pull request re-reads it when the
 * receivers pass on a review webhook (the pullRequestChanged signal) and every `pullRequestRecheckMs` anyway, so
 * a webhook that never arrives only delays an approval.
 */
async function awaitDecision(change: ChangeRecord): Promise<'decided' | 'expired'> {
  const policy = change.policy!;
  const deadline = Date.now() + policy.approvalTtlMs;
  const decided = () => change.approved() || change.currentState() !== 'awaiting_approval';
  if (change.status.pullRequest) await recheckPullRequest(change);
  for (;;) {
    if (decided()) return 'decided';
    const remaining = deadline - Date.now();
    if (remaining <= 0) return 'expired';
    const pokes = change.pullRequestPokes;
    const linked = change.status.pullRequest !== undefined;
    const poked = await condition(() => decided() || change.pullRequestPokes !== pokes, linked ? Math.min(remaining, policy.pullRequestRecheckMs) : remaining);
    // A flood of wake-ups reads the pull request at most once per PULL_REQUEST_POKE_INTERVAL_MS (issue 19).
    if (poked && !decided() && linked && change.pullRequestPokes !== pokes && change.verified) {
      const wait = Math.min((change.pullRequestReadAt ?? 0) + PULL_REQUEST_POKE_INTERVAL_MS, deadline) - Date.now();
      if (wait > 0) await condition(decided, wait);
    }
    if (!decided() && linked) await recheckPullRequest(change);
  }
}

async function recheckPullRequest(change: ChangeRecord): Promise<void> {
  const pr = change.status.pullRequest!;
  change.pullRequestReadAt = Date.now();
  const plan = change.status.plan!;
  let reading;
  try {
    reading = await pullRequestReader.checkPullRequestReviews({
      pullRequest: { repository: pr.repository, number: pr.number, path: pr.path },
      plannedCommit: pr.plannedCommit,
      author: pr.author,
      requester: change.approvalContext().requester,
      approvers: change.policy!.approvers,
      desiredSha256: pr.desiredSha256,
    });
  } catch (error) {
    // The Git host is unreachable or refuses the token: the next re-check tries again; the TTL still runs.
    pr.lastError = describeFailure(error);
    return;
  }
  if (change.currentState() !== 'awaiting_approval') return; // decided while we read
  const now = new Date().toISOString();
  const key = pullRequestKey(pr);
  pr.state = reading.state;
  pr.lastCheckedAt = now;
  pr.notCounted = reading.notCounted.map(({ login, reviewId, state, reason }) => ({ login, reviewId, state, reason }));
  delete pr.lastError;
  if (reading.state === 'closed') {
    change.status.rejection = { by: pr.author, reason: `pull request ${key} was closed`, at: now, via: 'pull_request' };
    change.enter('cancelled', `withdrawn: pull request ${key} was closed without merging`);
    return;
  }
  if (reading.headSha !== pr.plannedCommit) {
    change.enter('cancelled', `superseded: ${key} moved from ${pr.plannedCommit.slice(0, 12)} to ${reading.headSha.slice(0, 12)}; a new push is a new change`);
    return;
  }
  if (reading.changesRequested) {
    const review = reading.changesRequested;
    change.status.rejection = { by: review.principal, reason: `changes requested in review ${review.reviewId} on ${key}`, at: now, via: 'review' };
    change.enter('rejected', `by ${review.principal} (${review.login}): changes requested on ${key}`);
    return;
  }
  // The reviews that count now replace those counted before (a dismissed review stops counting); signed approvals
  // stay, and a principal who signed is not counted twice.
  const approvals = change.status.approvals;
  const signed = approvals.filter((approval) => approval.via !== 'review');
  const reviewed = reading.approvals
    .filter((review) => !signed.some((approval) => approval.approver === review.principal))
    .map((review) => ({
      approver: review.principal,
      payloadHash: plan.payloadHash,
      approvedAt: approvals.find((approval) => approval.via === 'review' && approval.review?.id === review.reviewId)?.approvedAt ?? now,
      via: 'review' as const,
      review: { login: review.login, id: review.reviewId, commitId: review.commitId, ...(review.submittedAt ? { submittedAt: review.submittedAt } : {}) },
    }));
  for (const review of reviewed) {
    if (approvals.some((approval) => approval.via === 'review' && approval.review?.id === review.review.id)) continue;
    change.record(
      'change.approved',
      { principal: review.approver, via: 'review', payloadHash: plan.payloadHash, review: review.review, approvals: signed.length + reviewed.length, required: change.policy!.requiredApprovals },
      `review-${review.review.id}`,
    );
  }
  approvals.splice(0, approvals.length, ...signed, ...reviewed);
  if (change.approved()) change.enter('approved');
  else change.publish();
  await change.flush();
}

async function deployUnderLock(change: ChangeRecord): Promise<void> {
  const { input } = change;
  const targetId = targetWorkflowId(input.target);
  const selfId = workflowInfo().workflowId;
  const lockRequest = { target: input.target, changeWorkflowId: selfId, changeId: input.changeId, taskQueue: workflowInfo().taskQueue };
  const fast = patched(FAST_DEPLOY_PATCH);
  if (fast) {
    // Granted in the answer when the object is free; otherwise queued, and `lockGranted` comes in turn (FIFO).
    const grant = await gate.acquireDeployLock(lockRequest);
    if (grant.granted) change.lockGranted = true;
  } else {
    await gate.requestDeployLock(lockRequest);
  }

  const { produced, unconfirmed } = change.outcome;
  let granted = false;
  try {
    if (change.verified) await waitForLock(change, lockRequest);
    else await condition(() => change.lockGranted);
    granted = true;
    // Once a deploy has begun it is finished (verified or rolled back) even if the change is cancelled.
    await CancellationScope.nonCancellable(() => deploy(change, produced, unconfirmed, fast));
  } finally {
    // Release (or leave the queue), recording what we wrote in the target's ledger in the same message, so that
    // an audit waiting on this object sees the versions before it sees the lock free.
    await CancellationScope.nonCancellable(async () => {
      // The target reads what was produced from this workflow's deployOutcome query (issue 19), so it is marked
      // released first; the signal still carries it for targets that replay on older code.
      change.outcome.released = true;
      try {
        await getExternalWorkflowHandle(targetId).signal(releaseSignal, { changeWorkflowId: selfId, changeId: input.changeId, produced, unconfirmed });
      } catch {
        // The target workflow is gone (terminated by an operator): there is no lock left to release.
      }
      // The target reads deployOutcome from this running workflow: stay until it has (issue 19).
      if (change.verified) await gate.awaitReleaseApplied({ target: input.target, changeWorkflowId: selfId });
    });
    if (!granted && !isFinal(change.state)) change.enter('cancelled', 'while waiting for the deploy lock');
    await CancellationScope.nonCancellable(() => change.flush());
  }
}

/**
 * Waits for the object's lock (issue 19): `lockGranted` only wakes the change, which asks the target again (its own
 * update, answered from the target's state); a flood of wake-ups asks at most once per LOCK_REASK_INTERVAL_MS, and a
 * lost one is made up for every LOCK_REASK_IDLE.
 */
async function waitForLock(change: ChangeRecord, lockRequest: { target: ChangeInput['target']; changeWorkflowId: string; changeId: string; taskQueue: string }): Promise<void> {
  let ask = 0;
  let askedAt = Date.now();
  while (!change.lockGranted) {
    const pokes = change.lockPokes;
    const poked = await condition(() => change.lockPokes !== pokes, LOCK_REASK_IDLE);
    const wait = askedAt + LOCK_REASK_INTERVAL_MS - Date.now();
    if (wait > 0) await sleep(wait);
    ask += 1;
    askedAt = Date.now();
    const grant = await gate.acquireDeployLock({ ...lockRequest, ask });
    if (grant.granted) change.lockGranted = true;
    else if (poked) change.refuseMessage('lockGranted', `the target says the lock is not this change's (place ${grant.position ?? '?'} in its queue)`);
  }
}

async function deploy(change: ChangeRecord, produced: ProducedVersion[], unconfirmed: UnconfirmedWrite[], fast: boolean): Promise<void> {
  const { input } = change;
  const plan = change.status.plan!;
  const policy = change.policy!;
  const genesys = genesysActivities();
  const reads = fast ? genesysLocalReads() : genesys;
  const counters = { conflicts: 0, calls: 0 };
  // A type without a version (routing queues, wrap-up codes, data table rows) has no optimistic lock on the platform:
  // the guard is ours — read, compare with the plan's base state (divergence), write, read back.
  const versioned = policy.versionRule !== 'none';
  /** Writes whose outcome stayed unknown, with what they were merged onto: any of them may still land. */
  const pending: { request: WriteRequest; base: ObjectSnapshot }[] = [];
  change.enter('deploying');

  const read = async () => {
    counters.calls += 1;
    return reads.readConfigObject(input.target);
  };

  /** Write the fields `next` computes from the object as it is, until written: on 409 wait, re-read, re-merge. */
  const writeLoop = async (start: ObjectSnapshot, next: (current: ObjectSnapshot) => { fields: Fields; diverged?: string[] }): Promise<WriteResult> => {
    let current = start;
    let conflicts = 0;
    let unknowns = 0;
    for (;;) {
      // A write whose outcome was unknown may have landed since (a slow write): then it is ours, our version, and
      // never someone else's change (issue 11: never audited as drift, never reported as "nothing written").
      const late = pending.find((write) => landedAs(current, write.request, versioned));
      if (late) {
        const index = unconfirmed.findIndex((write) => write.fields === late.request.fields);
        if (index >= 0) unconfirmed.splice(index, 1);
        return { kind: 'written', object: current, fields: late.request.fields, base: late.base };
      }
      const { fields, diverged } = next(current);
      if (diverged && diverged.length > 0) return { kind: 'diverged', fields: diverged, object: current };
      if (fieldsEqual(fields, current.fields)) return { kind: 'in_effect', object: current };
      const request: WriteRequest = { target: input.target, baseVersion: current.version, versionRule: policy.versionRule, fields };
      const outcome = await genesys.writeConfigObject(fast ? { ...request, readBack: true } : request);
      counters.calls += outcome.genesysCalls;
      if (outcome.outcome === 'written') {
        return { kind: 'written', object: outcome.object, fields, base: current, readBack: outcome.readBack, ...(outcome.requestId ? { requestId: outcome.requestId } : {}) };
      }
      if (outcome.outcome === 'conflict') {
        // Seed trap "Version Control Ignorance" / Edge Case 1: someone wrote since our read (a 409, or the 400 some
        // Genesys services answer instead).
        conflicts += 1;
        counters.conflicts += 1;
        if (conflicts > MAX_CONFLICT_RETRIES) return { kind: 'gave_up', reason: `conflict_retries_exhausted: ${conflicts} conflicts in a row` };
        await sleep(conflictBackoffMs(conflicts, Math.random()));
        current = await read();
        continue;
      }
      // Unknown outcome: settle by reading, never by re-sending blindly.
      unknowns += 1;
      counters.calls += 1;
      const settled = await genesys.settleUnknownWrite(request);
      if (settled.outcome === 'landed') return { kind: 'written', object: settled.object, fields, base: current };
      // Not landed (yet): it may land later; if it does, the ledger knows it as ours.
      unconfirmed.push({ ...(versioned ? { version: request.baseVersion + 1 } : {}), fields, at: new Date().toISOString() });
      pending.push({ request, base: current });
      if (unknowns > MAX_UNKNOWN_OUTCOMES) return { kind: 'gave_up', reason: `write_outcome_unknown: ${outcome.error}` };
      current = settled.object;
    }
  };

  const before = await read();
  const result: DeployResult = {
    preDeployVersion: before.version,
    preDeployFields: before.fields,
    conflictsRetried: 0,
    genesysCalls: 0,
    verified: false,
  };
  change.status.deploy = result;
  const finish = () => {
    result.conflictsRetried = counters.conflicts;
    // The plan's read counts too: Genesys calls per change, from plan to verified.
    result.genesysCalls = counters.calls + 1;
  };

  // Re-merge onto the object as it is now: fields the plan does not touch keep their current values (Edge
  // Case 1: "no data is lost"); a touched field that someone else changed since the plan is a divergence.
  const written = await writeLoop(before, (current) => ({
    fields: applyChanges(current.fields, plan.diff),
    diverged: divergedFields(current.fields, plan.diff),
  }));

  if (written.kind === 'diverged') {
    finish();
    change.status.divergedFields = written.fields;
    change.enter('diverged', `${written.fields.join(', ')} changed since the plan (version ${plan.baseVersion} → ${written.object.version}); submit a new change`);
    return;
  }
  if (written.kind === 'gave_up') {
    finish();
    change.enter('failed', written.reason);
    await alert('change_failed', `change ${input.changeId} on ${targetAddress(input.target)} failed: ${written.reason}`, change);
    return;
  }
  if (written.kind === 'in_effect') {
    finish();
    result.verified = true;
    change.enter('deployed', 'already_in_effect: the object already had the planned fields; nothing written');
    return;
  }

  result.writtenVersion = written.object.version;
  result.writtenFields = written.fields;
  const deployEntry: ProducedVersion = { version: written.object.version, kind: 'deploy', fields: written.fields, at: new Date().toISOString(), ...(versioned ? {} : { versioned }) };
  produced.push(deployEntry);
  change.record('change.written', {
    versionBefore: written.base.version,
    versionAfter: written.object.version,
    kind: 'deploy',
    fields: plan.diff.map((c) => c.field),
    ...(written.requestId ? { requestId: written.requestId } : {}),
  });
  // The write's record is in the ledger before the workflow does anything more to the object (reads it back itself,
  // rolls it back). When the read-back came with the write, nothing happens in between: the record goes with the
  // verdict, in one append (behind patched(): older histories appended it here, on its own).
  const withVerdict = written.readBack !== undefined && patched(WRITTEN_WITH_VERDICT_PATCH);
  if (!withVerdict) await change.flush();

  // The seed's canary check ("Silent Failures in CI/CD"): read back what we wrote and compare (read by the write's
  // own activity on the fast path, unless that read failed).
  const readBack = written.readBack ?? (await read());
  const mismatch = readBackMismatch(readBack, { version: written.object.version, fields: written.fields }, plan.diff, versioned);
  if (mismatch.length === 0) {
    result.verified = true;
    finish();
    // Appended with the lock's release (deployUnderLock), together with the write's record when withVerdict.
    change.enter('deployed', versioned ? `verified at version ${readBack.version}` : 'verified (read back)');
    return;
  }
  if (withVerdict) await change.flush();
  // An answer of success for a write that never happened (the object is older than the version the answer named):
  // that version is not ours, whoever produces it later.
  if (versioned && readBack.version < written.object.version) produced.splice(produced.indexOf(deployEntry), 1);

  // Mismatch: a rollback that respects people. Only a field this change touched that still holds what the gate
  // wrote goes back to its value before the write; a field someone changed after the write keeps their value.
  const touched = plan.diff.map((fieldChange) => fieldChange.field);
  const writtenFields = written.fields;
  const baseFields = written.base.fields;
  const rollback = await writeLoop(readBack, (current) => ({ fields: restoreUntouchedByPeople(current.fields, touched, writtenFields, baseFields) }));
  let rollbackVerified = false;
  let rollbackVersion: number | undefined;
  let after: ObjectSnapshot | undefined;
  if (rollback.kind === 'written') {
    rollbackVersion = rollback.object.version;
    produced.push({ version: rollback.object.version, kind: 'rollback', fields: rollback.fields, at: new Date().toISOString(), ...(versioned ? {} : { versioned }) });
    change.record('change.written', {
      versionBefore: readBack.version,
      versionAfter: rollback.object.version,
      kind: 'rollback',
      fields: touched,
      ...(rollback.requestId ? { requestId: rollback.requestId } : {}),
    });
    after = rollback.readBack ?? (await read());
    // What the rollback restored must read back so; what it left as people set it is theirs.
    const restored = plan.diff.filter((fieldChange) => valuesEqual(rollback.fields[fieldChange.field], baseFields[fieldChange.field]));
    rollbackVerified = readBackMismatch(after, { version: rollback.object.version, fields: rollback.fields }, restored, versioned).length === 0;
  } else if (rollback.kind === 'in_effect') {
    rollbackVerified = true;
    after = rollback.object;
  }
  result.rollback = { version: rollbackVersion, verified: rollbackVerified, mismatch };
  finish();
  if (!rollbackVerified || !after) {
    change.enter('failed', `rollback_failed: read-back mismatch (${mismatch.join(', ')}) and the rollback did not verify`);
    await alert('rollback_failed', `change ${input.changeId} on ${targetAddress(input.target)}: read-back mismatch and the rollback did not verify; fix by hand`, change);
    return;
  }
  // Fields the rollback left as someone set them after our write: theirs to keep, and the change says whose.
  const kept = touched.filter((field) => !valuesEqual(after!.fields[field], baseFields[field]));
  if (kept.length > 0) {
    const who = await genesys.identifyModifier({ target: input.target, since: deployEntry.at!, fields: kept, fallback: readBack.modifiedBy ?? after.modifiedBy });
    change.status.divergedFields = kept;
    change.status.divergedBy = who;
    change.enter(
      'diverged',
      `${kept.join(', ')} changed by ${who} after the gate's write; their edit is kept` +
        (touched.length > kept.length ? `, the gate's other fields were rolled back` : '') +
        ` (read-back mismatch: ${mismatch.join(', ')})`,
    );
    await alert('change_diverged', `change ${input.changeId} on ${targetAddress(input.target)}: ${kept.join(', ')} changed by ${who} after the gate wrote it; left as they set it`, change);
    return;
  }
  change.enter('rolled_back', `read-back mismatch at version ${readBack.version} (${mismatch.join(', ')}); rolled back to the pre-deploy state`);
  await alert('change_rolled_back', `change ${input.changeId} on ${targetAddress(input.target)}: read-back did not match (${mismatch.join(', ')}); rolled back`, change);
}

/** The object is what a write whose outcome was unknown produces: it landed (late). */
function landedAs(object: ObjectSnapshot, request: WriteRequest, versioned: boolean): boolean {
  return (!versioned || object.version === request.baseVersion + 1) && fieldsEqual(object.fields, request.fields);
}

async function alert(kind: string, summary: string, change: ChangeRecord): Promise<void> {
  await gate.sendAlert({
    kind,
    summary,
    details: {
      changeId: change.input.changeId,
      target: targetAddress(change.input.target),
      state: change.state,
      stateReason: change.status.stateReason,
      workflowId: workflowInfo().workflowId,
    },
  });
}
