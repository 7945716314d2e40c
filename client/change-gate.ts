/**
 * Every call into the change gate from outside its workflows: submit, approve, reject, read, list and wait on
 * changes; acquire an object's deploy lock for a change (update-with-start of `target:<type>:<id>`) and ask an
 * object's ledger to classify a version (signal-with-start); start and list audits. The CLI, the config-audit receiver, the
 * change-gate activities that coordinate workflows, the tests and the benchmarks all come through this door.
 */
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { canonicalPrincipal } from '../approvals/principal';
import { TollgateKind, TollgatePullRequest, TollgateRequester, TollgateSource, TollgateState, TollgateTarget } from '../platform/search-attributes';
import { auditWorkflow } from '../workflows/audit';
import { auditVerdictQuery, type AuditInput, type AuditResult } from '../workflows/audit-messages';
import { canonicalJson } from '../workflows/canonical-json';
import { changeWorkflow } from '../workflows/change';
import { decisionStatementText } from '../workflows/change-policy';
import {
  approveUpdate,
  checkLiveUpdate,
  deployOutcomeQuery,
  FINAL_STATES,
  pullRequestChangedSignal,
  pullRequestKey,
  rejectUpdate,
  SUCCESS_STATES,
  statusQuery,
  type ApprovalRequest,
  type ChangeInput,
  type ChangeState,
  type ChangeStatus,
  type DeployOutcome,
  type LiveCheck,
  type RejectRequest,
} from '../workflows/change-messages';
import { restoringPatch } from '../workflows/config-merge';
import { CHANGE_OUTCOME_FAILURE_TYPES, REFUSAL_TYPES } from '../workflows/failures';
import { targetWorkflow } from '../workflows/target';
import {
  acquireLockUpdate,
  classificationQuery,
  classifySignal,
  enqueueSignal,
  targetQuery,
  type Classification,
  type ClassifyRequest,
  type LockGrant,
} from '../workflows/target-messages';
import { auditStaticDetails, auditSummary, changeStaticDetails, changeSummary, targetSummary } from '../workflows/ui-metadata';
import { auditWorkflowId, changeWorkflowId, parseTargetAddress, targetAddress, targetWorkflowId, type TargetRef } from '../workflows/workflow-ids';
import { visibilityQuery } from './visibility';

export type ChangeHandle = WorkflowHandle<typeof changeWorkflow>;

export class ChangeIdConflictError extends Error {
  constructor(
    readonly changeId: string,
    readonly existing: ChangeStatus,
    /** What differs between the change under this ID and the submission, in words. */
    readonly differences: string[] = [],
  ) {
    super(
      `change ID ${changeId} is already used by a different change: ${differences.length > 0 ? differences.join('; ') : `target ${targetAddress(existing.target)}, requester ${existing.requester}`}. ` +
        'Submit this payload under a new --change-id (the same ID is the same change, e.g. a re-run CI job)',
    );
    this.name = 'ChangeIdConflictError';
  }
}

/** No change workflow has this ID. */
export class ChangeNotFoundError extends Error {
  constructor(readonly changeId: string) {
    super(`no change ${changeId}`);
    this.name = 'ChangeNotFoundError';
  }
}

// --- changes -----------------------------------------------------------------------------------------------

export function changeHandle(client: Client, changeId: string): ChangeHandle {
  return client.workflow.getHandle<typeof changeWorkflow>(changeWorkflowId(changeId));
}

/**
 * Starts `change:<changeId>`, or finds it: the same ID again (CI re-running a job) is the same change, running or
 * finished (reuse policy REJECT_DUPLICATE: a finished change is never restarted under its ID). An ID already used
 * for another target, payload or requester is refused.
 */
export async function submitChange(client: Client, taskQueue: string, input: ChangeInput): Promise<ChangeHandle> {
  const workflowId = changeWorkflowId(input.changeId);
  let handle: ChangeHandle;
  try {
    handle = await client.workflow.start(changeWorkflow, {
      workflowId,
      taskQueue,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      // What the Temporal UI lists: "ivr/main-menu: greeting, queue — requested by alice", and the request.
      staticSummary: changeSummary(input),
      staticDetails: changeStaticDetails(input),
      typedSearchAttributes: [
        { key: TollgateKind, value: 'change' },
        { key: TollgateTarget, value: targetAddress(input.target) },
        { key: TollgateRequester, value: input.requester },
        { key: TollgateState, value: 'planning' },
        ...(input.pullRequest ? [{ key: TollgatePullRequest, value: pullRequestKey(input.pullRequest) }] : []),
      ],
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    handle = client.workflow.getHandle<typeof changeWorkflow>(workflowId);
  }
  const status = await handle.query(statusQuery);
  const differences = changeDifferences(status, input);
  if (differences.length > 0) throw new ChangeIdConflictError(input.changeId, status, differences);
  return handle;
}

/** The same change again (CI re-running a job): same target, fields and requester (compared as principals; for a
 * pull-request change the proven requester may be the author's principal where CI named the login). The signature
 * is not compared: ECDSA signs differently each time. */
export function sameChange(status: ChangeStatus, input: ChangeInput): boolean {
  return changeDifferences(status, input).length === 0;
}

/** What differs between the change under an ID and another submission under it, in words ([] when the same). */
export function changeDifferences(status: ChangeStatus, input: ChangeInput): string[] {
  // A blank requester (refused by the workflow) still finds its own refused change.
  const principal = (name: string) => canonicalPrincipal(name) ?? name.trim();
  const differences: string[] = [];
  if (status.target.type !== input.target.type || status.target.id !== input.target.id) {
    differences.push(`target: ${targetAddress(status.target)}, not ${targetAddress(input.target)}`);
  }
  if (![principal(status.requester), status.pullRequest?.author].includes(principal(input.requester))) {
    differences.push(`requester: ${status.requester}, not ${input.requester.trim() || '(blank)'}`);
  }
  // `null` (remove the field) and an absent field are different requests.
  const value = (fields: Record<string, unknown>, field: string) => (Object.hasOwn(fields, field) ? canonicalJson(fields[field]) : undefined);
  const fields = [...new Set([...Object.keys(status.desired), ...Object.keys(input.desired)])]
    .sort()
    .filter((field) => value(status.desired, field) !== value(input.desired, field));
  if (fields.length > 0) differences.push(`fields that differ: ${fields.join(', ')}`);
  if (status.replace !== (input.replace ?? false)) differences.push(`replace: ${status.replace}, not ${input.replace ?? false}`);
  const linked = status.linkedPullRequest ? pullRequestKey(status.linkedPullRequest) : undefined;
  const asked = input.pullRequest ? pullRequestKey(input.pullRequest) : undefined;
  if (linked !== asked) differences.push(`pull request: ${linked ?? 'none'}, not ${asked ?? 'none'}`);
  return differences;
}

/**
 * The exact text `principal` signs to approve or reject this run of the change (`tollgate change statement`):
 * undefined while the change has no plan yet.
 */
export function statementFor(status: ChangeStatus, decision: 'approve' | 'reject', principal: string): string | undefined {
  if (!status.plan) return undefined;
  return decisionStatementText({ namespace: status.namespace, changeId: status.changeId, runId: status.runId, target: status.target, plan: status.plan }, decision, principal);
}

/** The change's status by query; ChangeNotFoundError when there is no such workflow. */
export async function changeStatus(client: Client, changeId: string): Promise<ChangeStatus> {
  try {
    return await changeHandle(client, changeId).query(statusQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new ChangeNotFoundError(changeId);
    throw error;
  }
}

/**
 * Asks the change's worker to read the live object now (one Genesys read) and say whether it moved since the plan:
 * only while the change awaits approval. Undefined when no answer comes within `timeoutMs` (no worker polling, the
 * change moved on, Genesys Cloud slow): the caller shows the plan without it.
 */
export async function checkLiveObject(client: Client, changeId: string, timeoutMs = 5000): Promise<LiveCheck | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    return await Promise.race([changeHandle(client, changeId).executeUpdate(checkLiveUpdate, { args: [] }), timeout]);
  } catch (error) {
    // Read too often (the per-change limit, issue 19): the last read is in the status.
    if (refusalOf(error)?.code === 'rate_limited') return (await changeStatus(client, changeId).catch(() => undefined))?.live;
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The change's final status once its workflow closes, whether it completed or ended as a failure because an
 * operator must act (`failed`, `rolled_back`: the status is the failure's first detail). Anything else rethrows.
 */
export async function changeResult(handle: ChangeHandle): Promise<ChangeStatus> {
  try {
    return await handle.result();
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
    if (cause instanceof ApplicationFailure && CHANGE_OUTCOME_FAILURE_TYPES.includes(cause.type ?? '') && cause.details?.[0]) {
      return cause.details[0] as ChangeStatus;
    }
    throw error;
  }
}

/** Waits (bounded) until the plan exists, so that `submit` can print it: it takes one Genesys read. */
export async function waitForPlan(client: Client, changeId: string, timeoutMs = 60_000): Promise<ChangeStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await changeStatus(client, changeId);
    if (status.state !== 'planning' || Date.now() >= deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export type ChangeOutcome = 'succeeded' | 'failed' | 'timed_out';

/**
 * Follows a change until it is deployed and verified (`succeeded`), ends any other way (`failed`: the seed's
 * "Silent Failures in CI/CD" trap), or `timeoutMs` passes. `onProgress` hears each new state.
 */
export async function waitForOutcome(
  client: Client,
  changeId: string,
  options: { timeoutMs: number; onProgress?: (status: ChangeStatus) => void },
): Promise<{ outcome: ChangeOutcome; status: ChangeStatus }> {
  const deadline = Date.now() + options.timeoutMs;
  let last = '';
  for (;;) {
    const status = await changeStatus(client, changeId);
    const seen = `${status.state}\n${status.stateReason ?? ''}`;
    if (seen !== last) {
      options.onProgress?.(status);
      last = seen;
    }
    if (SUCCESS_STATES.includes(status.state) && status.deploy?.verified) return { outcome: 'succeeded', status };
    if (FINAL_STATES.includes(status.state)) return { outcome: 'failed', status };
    if (Date.now() >= deadline) return { outcome: 'timed_out', status };
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(50, deadline - Date.now()))));
  }
}

/**
 * The input of a change that restores the fields `original` touched to their pre-deploy values (`tollgate change
 * rollback`): a new change, through the same approvals. Undefined when `original` is not a deployed change.
 */
export function rollbackInput(original: ChangeStatus, request: { changeId: string; requester: string; reason?: string }): ChangeInput | undefined {
  if (!original.plan || !original.deploy?.writtenVersion || !SUCCESS_STATES.includes(original.state)) return undefined;
  return {
    changeId: request.changeId,
    target: original.target,
    desired: restoringPatch(original.plan.diff, original.deploy.preDeployFields),
    requester: request.requester,
    reason: request.reason ?? `roll back ${original.changeId}`,
  };
}

/** The approve update; refusals come back as errors `refusalOf` recognises. */
export function approveChange(client: Client, changeId: string, request: ApprovalRequest): Promise<ChangeStatus> {
  return changeHandle(client, changeId).executeUpdate(approveUpdate, { args: [request] });
}

/** The reject update; refusals come back as errors `refusalOf` recognises. */
export function rejectChange(client: Client, changeId: string, request: RejectRequest): Promise<ChangeStatus> {
  return changeHandle(client, changeId).executeUpdate(rejectUpdate, { args: [request] });
}

/**
 * Tells every running change linked to pull request `owner/repo#N` (of this deployment's task queue) to re-read it
 * now: the receivers call this for a verified GitHub webhook. Returns the changes told. Visibility lags a moment
 * behind a new change; the periodic re-check covers that gap.
 */
export async function notifyPullRequestChanged(client: Client, taskQueue: string, pullRequest: string, event: string): Promise<string[]> {
  const query = visibilityQuery(
    [
      ['TaskQueue', taskQueue],
      ['TollgatePullRequest', pullRequest.toLowerCase()],
    ],
    [`TollgateKind = 'change'`, `ExecutionStatus = 'Running'`],
  );
  const told: string[] = [];
  for await (const execution of client.workflow.list({ query })) {
    try {
      await client.workflow.getHandle(execution.workflowId, execution.runId).signal(pullRequestChangedSignal, { event });
      told.push(execution.workflowId);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error; // it finished meanwhile
    }
    if (told.length >= 100) break;
  }
  return told;
}

/** The refusal code of a failed approve/reject update (`self_approval`, `bad_signature`, …), if it is one. */
export function refusalOf(error: unknown): { code: string; message: string } | undefined {
  const cause = error instanceof WorkflowUpdateFailedError ? error.cause : error;
  if (cause instanceof ApplicationFailure && REFUSAL_TYPES.includes(cause.type ?? '')) {
    const code = typeof cause.details?.[0] === 'string' ? (cause.details[0] as string) : (cause.type as string);
    return { code, message: cause.message };
  }
  return undefined;
}

export interface ChangeListing {
  changeId: string;
  workflowId: string;
  state?: string;
  target?: string;
  requester?: string;
  startTime: string;
  status: string;
}

/** Changes of one deployment (its task queue), newest first, from the search attributes. */
export async function listChanges(
  client: Client,
  filter: { taskQueue: string; state?: ChangeState; target?: string; limit: number },
): Promise<ChangeListing[]> {
  const query = visibilityQuery(
    [
      ['TaskQueue', filter.taskQueue],
      ['TollgateState', filter.state],
      ['TollgateTarget', filter.target],
    ],
    [`TollgateKind = 'change'`],
  );
  const rows: ChangeListing[] = [];
  for await (const execution of client.workflow.list({ query })) {
    rows.push({
      changeId: execution.workflowId.replace(/^change:/, ''),
      workflowId: execution.workflowId,
      state: execution.typedSearchAttributes.get(TollgateState),
      target: execution.typedSearchAttributes.get(TollgateTarget),
      requester: execution.typedSearchAttributes.get(TollgateRequester),
      startTime: execution.startTime.toISOString(),
      status: execution.status.name,
    });
    if (rows.length >= filter.limit) break;
  }
  return rows.sort((a, b) => b.startTime.localeCompare(a.startTime));
}

// --- the per-object target workflow ------------------------------------------------------------------------

function targetStartOptions(target: TargetRef, taskQueue: string) {
  return {
    workflowId: targetWorkflowId(target),
    taskQueue,
    args: [{ target }] as [{ target: TargetRef }],
    staticSummary: targetSummary(target),
    typedSearchAttributes: [
      { key: TollgateKind, value: 'target' },
      { key: TollgateTarget, value: targetAddress(target) },
    ],
  };
}

/**
 * Asks for the object's deploy lock on behalf of a change (update-with-start: the target workflow is started if it
 * is not running). Answers in the target's next workflow task: `granted` (the change holds the lock now) or queued
 * (the target signals `lockGranted` in turn). Safe to repeat: a retried call gets the same answer, in the same run
 * (the update ID dedupes) and after the target continued as new (the handler is idempotent).
 */
export async function acquireDeployLock(
  client: Client,
  request: { target: TargetRef; changeWorkflowId: string; changeId: string; taskQueue: string; ask?: number },
): Promise<LockGrant> {
  const startWorkflowOperation = new WithStartWorkflowOperation(targetWorkflow, {
    ...targetStartOptions(request.target, request.taskQueue),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
  return client.workflow.executeUpdateWithStart(acquireLockUpdate, {
    args: [{ changeWorkflowId: request.changeWorkflowId, changeId: request.changeId }],
    startWorkflowOperation,
    // A change asks again when told `lockGranted` (a wake-up it does not trust, issue 19): each ask is its own update.
    updateId: `deploy-lock:${request.changeWorkflowId}${request.ask ? `:${request.ask}` : ''}`,
  });
}

/** Changes started before acquireLock (their histories replay): queue for the lock; `lockGranted` comes in turn. */
export async function requestDeployLock(
  client: Client,
  request: { target: TargetRef; changeWorkflowId: string; changeId: string; taskQueue: string },
): Promise<void> {
  await client.workflow.signalWithStart(targetWorkflow, {
    ...targetStartOptions(request.target, request.taskQueue),
    signal: enqueueSignal,
    signalArgs: [{ changeWorkflowId: request.changeWorkflowId, changeId: request.changeId }],
  });
}

/** Asks the object's ledger whether an approved deploy produced `version`; the answer comes back as a signal. */
export async function requestClassification(
  client: Client,
  request: Omit<ClassifyRequest, 'replyTo'> & { target: TargetRef; replyTo: string; taskQueue: string },
): Promise<void> {
  const { target, taskQueue, ...classify } = request;
  await client.workflow.signalWithStart(targetWorkflow, {
    ...targetStartOptions(target, taskQueue),
    signal: classifySignal,
    signalArgs: [classify],
  });
}

/** The objects the gate protects in one deployment (its task queue): every object with a target workflow — one
 * that a change was deployed to, or whose change an audit asked about. Read from visibility (eventually consistent). */
export async function listTargets(client: Client, taskQueue: string): Promise<TargetRef[]> {
  const query = visibilityQuery([['TaskQueue', taskQueue]], [`TollgateKind = 'target'`]);
  const targets = new Map<string, TargetRef>();
  for await (const execution of client.workflow.list({ query })) {
    const address = execution.typedSearchAttributes.get(TollgateTarget);
    const target = address ? parseTargetAddress(address) : undefined;
    if (target) targets.set(targetAddress(target), target);
  }
  return [...targets.values()];
}

/** False when the workflow has closed or never existed (the lock's holder check). */
export async function isWorkflowRunning(client: Client, workflowId: string): Promise<boolean> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

// --- checks behind the messages between workflows (issue 19) -------------------------------------------------
//
// A signal or update between workflows is a wake-up, never a fact: anyone with a client on the namespace can send
// one. The workflow that receives it reads the fact from the workflow that owns it, here, after checking that the
// workflow is one of this deployment's (its type and task queue), so a workflow of another type started under a
// made-up ID answers nothing.

/** `workflowId` described, when it is a `type` workflow of this deployment; else why it is not one. */
async function describeOurs(client: Client, workflowId: string, type: string, taskQueue: string): Promise<{ running: boolean } | { problem: string }> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    if (description.type !== type) return { problem: `${workflowId} is a ${description.type}, not a ${type}` };
    if (description.taskQueue !== taskQueue) return { problem: `${workflowId} runs on task queue ${description.taskQueue}, not ${taskQueue}` };
    return { running: description.status.name === 'RUNNING' };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { problem: `${workflowId} does not exist` };
    throw error;
  }
}

/** The target's `release` check: what the change itself says its deploy produced, once it let go of the lock. */
export async function readReleasedDeploy(
  client: Client,
  request: { changeWorkflowId: string; target: TargetRef; taskQueue: string },
): Promise<{ ok: true; outcome: DeployOutcome } | { ok: false; reason: string }> {
  const described = await describeOurs(client, request.changeWorkflowId, 'changeWorkflow', request.taskQueue);
  if ('problem' in described) return { ok: false, reason: described.problem };
  // A change stays open until its release is applied (awaitReleaseApplied); a closed one is not queried (a query of
  // a closed run replays it, which the SDK does not always manage for a run that ended as a failure).
  if (!described.running) return { ok: false, reason: `${request.changeWorkflowId} has closed` };
  let outcome: DeployOutcome;
  try {
    outcome = await client.workflow.getHandle<typeof changeWorkflow>(request.changeWorkflowId).query(deployOutcomeQuery);
  } catch (error) {
    // A change from before the query (its history replays on older code) cannot answer it.
    if (error instanceof Error && /deployOutcome/.test(error.message)) return { ok: false, reason: `${request.changeWorkflowId} does not say what it deployed` };
    throw error;
  }
  if (targetAddress(outcome.target) !== targetAddress(request.target)) {
    return { ok: false, reason: `${request.changeWorkflowId} deploys to ${targetAddress(outcome.target)}, not ${targetAddress(request.target)}` };
  }
  if (changeWorkflowId(outcome.changeId) !== request.changeWorkflowId) return { ok: false, reason: `${request.changeWorkflowId} names another change` };
  if (!outcome.released) return { ok: false, reason: `${request.changeWorkflowId} has not released the lock` };
  return { ok: true, outcome };
}

/**
 * Waits (up to `timeoutMs`) until the object's target workflow has applied this change's release: the change stays
 * open until then, so the target reads its deployOutcome from a running workflow. True when applied, or when the
 * target runs older code that takes the release from the signal itself.
 */
export async function awaitReleaseApplied(client: Client, request: { target: TargetRef; changeWorkflowId: string }, timeoutMs = 20_000): Promise<boolean> {
  const handle = client.workflow.getHandle<typeof targetWorkflow>(targetWorkflowId(request.target));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let snapshot;
    try {
      snapshot = await handle.query(targetQuery);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return true; // no target left (terminated): nothing holds a lock
      throw error;
    }
    if (snapshot.released === undefined || snapshot.released.includes(request.changeWorkflowId)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** States in which a change may not hold an object's deploy lock: it has not been approved. */
const NOT_YET_APPROVED: readonly ChangeState[] = ['planning', 'awaiting_approval'];

/** Why the change that now holds an object's lock should not (the target's check of every new holder), or undefined. */
export async function lockHolderProblem(
  client: Client,
  request: { changeWorkflowId: string; changeId: string; target: TargetRef; taskQueue: string },
): Promise<string | undefined> {
  if (changeWorkflowId(request.changeId) !== request.changeWorkflowId) return `${request.changeWorkflowId} is not the workflow of change ${request.changeId}`;
  const described = await describeOurs(client, request.changeWorkflowId, 'changeWorkflow', request.taskQueue);
  if ('problem' in described) return described.problem;
  if (!described.running) return `${request.changeWorkflowId} has closed`;
  const status = await client.workflow.getHandle<typeof changeWorkflow>(request.changeWorkflowId).query(statusQuery);
  if (targetAddress(status.target) !== targetAddress(request.target)) return `${request.changeWorkflowId} changes ${targetAddress(status.target)}, not ${targetAddress(request.target)}`;
  // A change past its deploy (deployed, diverged, …) still holds the lock for a moment, until its release arrives.
  if (NOT_YET_APPROVED.includes(status.state)) return `${request.changeWorkflowId} is ${status.state}: only an approved change takes the lock`;
  return undefined;
}

/** An audit's answer from the object's target workflow (undefined until it can judge the version). */
export async function readClassification(client: Client, target: TargetRef, request: ClassifyRequest): Promise<Classification | undefined> {
  return client.workflow.getHandle<typeof targetWorkflow>(targetWorkflowId(target)).query(classificationQuery, request);
}

/** Why the audit a change was told of does not prove its version approved, or undefined when it does. */
export async function auditConfirmationProblem(
  client: Client,
  request: { auditWorkflowId: string; changeId: string; target: TargetRef; version?: number; taskQueue: string },
): Promise<string | undefined> {
  const prefix = `${auditWorkflowId(request.target, 0).replace(/:0$/, '')}:`;
  if (!request.auditWorkflowId.startsWith(prefix)) return `${request.auditWorkflowId} is not an audit of ${targetAddress(request.target)}`;
  if (request.version !== undefined && request.auditWorkflowId !== auditWorkflowId(request.target, request.version)) {
    return `${request.auditWorkflowId} is not the audit of version ${request.version}`;
  }
  const described = await describeOurs(client, request.auditWorkflowId, 'auditWorkflow', request.taskQueue);
  if ('problem' in described) return described.problem;
  const verdict = await client.workflow.getHandle<typeof auditWorkflow>(request.auditWorkflowId).query(auditVerdictQuery);
  if (verdict.verdict !== 'approved') return `${request.auditWorkflowId} says ${verdict.verdict}`;
  if (verdict.changeId !== request.changeId) return `${request.auditWorkflowId} names change ${verdict.changeId ?? 'none'}`;
  return undefined;
}

// --- audits ------------------------------------------------------------------------------------------------

/** Starts `audit:<type>:<id>:<version>` unless it was ever started: `duplicate` for a re-sent or already-polled
 * event (reuse policy REJECT_DUPLICATE: an audit never runs twice, even after it finished). */
export async function startAudit(client: Client, taskQueue: string, input: AuditInput): Promise<'started' | 'duplicate'> {
  const target = { type: input.type, id: input.id };
  try {
    await client.workflow.start(auditWorkflow, {
      workflowId: auditWorkflowId(target, input.version),
      taskQueue,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      staticSummary: auditSummary(input),
      staticDetails: auditStaticDetails(input),
      typedSearchAttributes: [
        { key: TollgateKind, value: 'audit' },
        { key: TollgateTarget, value: targetAddress(target) },
        { key: TollgateSource, value: input.source },
        { key: TollgateState, value: 'pending' },
      ],
    });
    return 'started';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'duplicate';
    throw error;
  }
}

export interface AuditListing {
  workflowId: string;
  target?: string;
  version?: number;
  verdict?: string;
  source?: string;
  startTime: string;
  status: string;
  changeId?: string;
  revertChangeId?: string;
}

/** Audits of one deployment (its task queue), newest first; a finished audit's verdict comes from its result. */
export async function listAudits(client: Client, filter: { taskQueue: string; drift?: boolean; target?: string; limit: number }): Promise<AuditListing[]> {
  const query = visibilityQuery(
    [
      ['TaskQueue', filter.taskQueue],
      ['TollgateState', filter.drift ? 'drift' : undefined],
      ['TollgateTarget', filter.target],
    ],
    [`TollgateKind = 'audit'`],
  );
  const rows: AuditListing[] = [];
  for await (const execution of client.workflow.list({ query })) {
    const version = Number(execution.workflowId.split(':').pop());
    const row: AuditListing = {
      workflowId: execution.workflowId,
      target: execution.typedSearchAttributes.get(TollgateTarget),
      version: Number.isInteger(version) ? version : undefined,
      verdict: execution.typedSearchAttributes.get(TollgateState),
      source: execution.typedSearchAttributes.get(TollgateSource),
      startTime: execution.startTime.toISOString(),
      status: execution.status.name,
    };
    if (execution.status.name === 'COMPLETED') {
      const result = await client.workflow
        .getHandle<typeof auditWorkflow>(execution.workflowId)
        .result()
        .catch((): AuditResult | undefined => undefined);
      if (result) Object.assign(row, { verdict: result.verdict, changeId: result.changeId, revertChangeId: result.revertChangeId });
    }
    rows.push(row);
    if (rows.length >= filter.limit) break;
  }
  return rows.sort((a, b) => b.startTime.localeCompare(a.startTime));
}

/**
 * When the newest webhook-delivered audit of one deployment started, looking back no further than `since`;
 * `recent` says whether one started after `recentSince` (a cheap count answers that first). The heartbeat's
 * "have webhooks gone quiet?" (seed Edge Case 3).
 */
export async function lastWebhookAudit(
  client: Client,
  options: { taskQueue: string; recentSince: Date; since: Date },
): Promise<{ recent: boolean; last?: Date }> {
  // An audit whose version the object never reached (issue 19: started by anyone with a client) proves no webhook.
  const base = visibilityQuery([['TaskQueue', options.taskQueue]], [`TollgateKind = 'audit'`, `TollgateSource = 'webhook'`, `TollgateState != 'unverified'`]);
  const recent = await client.workflow.count(`${base} AND StartTime > '${options.recentSince.toISOString()}'`);
  if (recent.count > 0) return { recent: true };
  let last: Date | undefined;
  for await (const execution of client.workflow.list({ query: `${base} AND StartTime > '${options.since.toISOString()}'` })) {
    if (!last || execution.startTime > last) last = execution.startTime;
  }
  return { recent: false, ...(last ? { last } : {}) };
}
