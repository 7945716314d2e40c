/**
 * `target:<type>:<id>`: one Genesys Cloud object's deploy lock and ledger (an entity workflow).
 *
 * The lock: approved changes ask for it (`acquireLock`, an update-with-start sent by an activity) and are granted it
 * one at a time, first come first served, so at most one deploy runs against the object (SPEC; seed Edge Case 1,
 * where two middleware instances both computed version 10). A free lock is granted in the update's answer, so an
 * uncontended deploy starts one round trip after its approval; a change that finds it taken is queued and signalled
 * `lockGranted` in its turn. Changes from before the update (their histories still replay) enqueue by signal and
 * are always signalled. A holder that closes without releasing (terminated) is found by a periodic check and
 * skipped; the holder and the queue are workflow state, so the lock outlives any worker.
 *
 * The ledger: every version an approved deploy (or its rollback) produced, and the fields the gate last wrote.
 * Audits ask it whether a version is approved; an audit of a version newer than anything recorded waits while a
 * deploy is in flight, because that version may be the one the holder is about to report (its webhook can
 * arrive before the deploy workflow hears back from its own write).
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChangeGateActivities } from '../activities/change-gate';
import { TollgateKind, TollgateTarget } from '../platform/search-attributes';
import { classifiedSignal } from './audit-messages';
import { lockGrantedSignal } from './change-messages';
import type { Fields } from './config-merge';
import { appendToLedger } from './ledger-writer';
import {
  acquireLockUpdate,
  classificationQuery,
  classifySignal,
  enqueueSignal,
  releaseSignal,
  targetQuery,
  type Classification,
  type ClassifyRequest,
  type EnqueueRequest,
  type LedgerEntry,
  type LedgerKind,
  type LockGrant,
  type ReleaseRequest,
  type TargetSnapshot,
  type TargetWorkflowInput,
  type UnconfirmedWrite,
} from './target-messages';
import { targetCurrentDetails } from './ui-metadata';
import { auditWorkflowId, changeWorkflowId, targetAddress, type TargetRef } from './workflow-ids';

/**
 * Issue 19: a message is a wake-up, never a fact. `release` names a change; what it deployed is read from that change
 * (readReleasedDeploy); every new holder of the lock is checked to be an approved change of this object; an audit's
 * answer goes to the audit derived from the version (never to a `replyTo` someone chose) and is read back by it with
 * classificationQuery; state is carried only from this workflow's own continue-as-new. Runs that started before
 * this marker replay as they were.
 */
export const VERIFIED_MESSAGES_PATCH = 'messages-verified-not-trusted';
/** Pending audit requests kept at most (a flood of forged `classify` signals drops the oldest; audits ask again). */
export const PENDING_LIMIT = 1000;
/** Refusals recorded in the ledger per run (one per message, reason and change: the rest are counted). */
export const REFUSALS_RECORDED = 100;

/** Versions remembered per object. Older ones age out; the last approved fields are kept separately. */
export const LEDGER_LIMIT = 1000;
/** How often a holder that has not released is checked for being alive. */
export const HOLDER_CHECK_INTERVAL = '2 minutes';
/** Matching by time (types without a version): a landed write is recorded after the platform applied it, at most
 * one write activity later; clocks may differ a little. */
export const LANDED_WRITE_WINDOW_MS = 2 * 60_000;
export const CLOCK_SKEW_MS = 5_000;
/** A write whose outcome stayed unknown may still be applied this long after (a request queued on the platform). */
export const LATE_WRITE_WINDOW_MS = 60 * 60_000;

const { isWorkflowRunning, readReleasedDeploy, checkLockHolder } = proxyActivities<ChangeGateActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

class TargetLedger {
  holder?: EnqueueRequest & { grantedAt: string };
  queue: EnqueueRequest[];
  ledger: LedgerEntry[];
  lastApproved?: { version: number; fields: Fields; changeId: string };
  unconfirmed: (UnconfirmedWrite & { changeId: string })[];
  pending: ClassifyRequest[];
  /** Grants made in an acquireLock answer (not by the loop): each one wakes the loop to watch the new holder. */
  grantsAnswered = 0;
  /** Changes that said `release` and are yet to be read (issue 19). */
  releaseHints: string[] = [];
  /** Changes whose release was read and applied: a release is applied once (the last {@link LEDGER_LIMIT}). */
  released: string[];
  /** Refusals recorded this run (coalesced). */
  readonly refusalKeys = new Set<string>();

  constructor(readonly target: TargetRef, carried?: TargetWorkflowInput['carried']) {
    this.holder = carried?.holder;
    this.queue = carried?.queue ?? [];
    this.ledger = carried?.ledger ?? [];
    this.lastApproved = carried?.lastApproved;
    this.unconfirmed = carried?.unconfirmed ?? [];
    this.pending = carried?.pendingClassifications ?? [];
    this.released = carried?.released ?? [];
    this.releaseHints = carried?.releaseHints ?? [];
  }

  /** A classify request as the target takes it: the reply goes to the audit of that version, and one request per
   * question is kept (issue 19). */
  addPending(request: ClassifyRequest): void {
    if (typeof request?.version !== 'number' || !Number.isFinite(request.version)) return;
    const own: ClassifyRequest = { ...request, replyTo: auditWorkflowId(this.target, request.version) };
    const key = questionKey(own);
    if (this.pending.some((queued) => questionKey(queued) === key)) return;
    this.pending.push(own);
    if (this.pending.length > PENDING_LIMIT) this.pending.splice(0, this.pending.length - PENDING_LIMIT);
  }

  /** A release applied once per change (a repeated `release` naming an old change must not bring back its fields). */
  releaseOnce(request: ReleaseRequest, now: string): void {
    if (this.released.includes(request.changeWorkflowId)) return;
    this.release(request, now);
    this.released.push(request.changeWorkflowId);
    if (this.released.length > LEDGER_LIMIT) this.released.splice(0, this.released.length - LEDGER_LIMIT);
  }

  /** Idempotent: a re-sent enqueue (activity retry) of a change already queued or holding changes nothing. */
  enqueue(request: EnqueueRequest): void {
    if (this.holder?.changeWorkflowId === request.changeWorkflowId) return;
    if (this.queue.some((queued) => queued.changeWorkflowId === request.changeWorkflowId)) return;
    this.queue.push(request);
  }

  /** acquireLock: the lock now when nobody holds it or waits for it (FIFO), else a place in the queue. */
  acquire(request: EnqueueRequest, now: string): LockGrant {
    if (this.holder?.changeWorkflowId === request.changeWorkflowId) return { granted: true };
    if (!this.holder && this.queue.length === 0) {
      this.holder = { ...request, grantedAt: now };
      this.grantsAnswered += 1;
      return { granted: true };
    }
    this.enqueue(request);
    return { granted: false, position: this.queue.findIndex((queued) => queued.changeWorkflowId === request.changeWorkflowId) + 1 };
  }

  release(request: ReleaseRequest, now: string): void {
    for (const produced of request.produced) {
      const versioned = produced.versioned !== false;
      if (!versioned || !this.ledger.some((entry) => entry.version === produced.version && entry.versioned !== false)) {
        this.ledger.push({ version: produced.version, changeId: request.changeId, kind: produced.kind, at: produced.at ?? now, ...(versioned ? {} : { versioned }) });
      }
      if (!this.lastApproved || produced.version >= this.lastApproved.version) {
        this.lastApproved = { version: produced.version, fields: produced.fields, changeId: request.changeId };
      }
    }
    for (const write of request.unconfirmed ?? []) this.unconfirmed.push({ ...write, changeId: request.changeId });
    if (this.ledger.length > LEDGER_LIMIT) this.ledger.splice(0, this.ledger.length - LEDGER_LIMIT);
    if (this.unconfirmed.length > LEDGER_LIMIT) this.unconfirmed.splice(0, this.unconfirmed.length - LEDGER_LIMIT);
    if (this.holder?.changeWorkflowId === request.changeWorkflowId) this.holder = undefined;
    // A change that gave up while still queued (cancelled, expired) leaves the queue.
    this.queue = this.queue.filter((queued) => queued.changeWorkflowId !== request.changeWorkflowId);
  }

  canGrant(): boolean {
    return !this.holder && this.queue.length > 0;
  }

  private newestRecorded(): number {
    return this.ledger.reduce((max, entry) => Math.max(max, entry.versioned === false ? 0 : entry.version), this.lastApproved?.version ?? 0);
  }

  /** A version can be judged once it is recorded, or no deploy is in flight, or the ledger has moved past it. A change
   * matched by time can be judged once a write of ours matches it, or no deploy is in flight. */
  resolvable(request: ClassifyRequest): boolean {
    if (request.match === 'time') return !this.holder || this.byTime(request) !== undefined;
    return this.ledger.some((entry) => entry.version === request.version && entry.versioned !== false) || !this.holder || this.newestRecorded() >= request.version;
  }

  classify(request: ClassifyRequest): Classification {
    const approved = (changeId: string, kind: LedgerKind) => ({ version: request.version, approved: true, changeId, kind, lastApproved: this.lastApproved });
    if (request.match === 'time') {
      const match = this.byTime(request);
      return match ? approved(match.changeId, match.kind) : { version: request.version, approved: false, lastApproved: this.lastApproved };
    }
    const entry = this.ledger.find((recorded) => recorded.version === request.version && recorded.versioned !== false);
    if (entry) return approved(entry.changeId, entry.kind);
    // A write whose outcome stayed unknown may have produced this version, and landed late; only our own client could
    // have (where the audit cannot say which client, any client).
    const maybe = this.unconfirmed.find((recorded) => recorded.version === request.version);
    if (maybe && (request.byUs ?? request.modifiedBy?.kind === 'client')) return approved(maybe.changeId, 'deploy');
    return { version: request.version, approved: false, lastApproved: this.lastApproved };
  }

  /**
   * A change by our own client, at a time one of our writes explains: a landed write recorded at most one write
   * activity after the change (the earliest such), else a write whose outcome stayed unknown and could have landed
   * then. Someone else using the gate's credentials within that window would be taken for the gate — the price of
   * objects without a version; documented in docs/genesys.md.
   */
  private byTime(request: ClassifyRequest): { changeId: string; kind: LedgerKind } | undefined {
    if (!request.byUs || request.at === undefined) return undefined;
    const at = Date.parse(request.at);
    const landed = this.ledger
      .filter((entry) => {
        const recorded = Date.parse(entry.at);
        return recorded >= at - CLOCK_SKEW_MS && recorded <= at + LANDED_WRITE_WINDOW_MS;
      })
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))[0];
    if (landed) return { changeId: landed.changeId, kind: landed.kind };
    const late = this.unconfirmed.find((write) => {
      const recorded = Date.parse(write.at);
      return at >= recorded - LANDED_WRITE_WINDOW_MS && at <= recorded + LATE_WRITE_WINDOW_MS;
    });
    return late ? { changeId: late.changeId, kind: 'deploy' } : undefined;
  }

  snapshot(): TargetSnapshot {
    return {
      target: this.target,
      holder: this.holder,
      queue: [...this.queue],
      ledger: [...this.ledger],
      lastApproved: this.lastApproved,
      unconfirmed: [...this.unconfirmed],
      pendingClassifications: [...this.pending],
      released: [...this.released],
      releaseHints: [...this.releaseHints],
    };
  }
}

/** What a classify request asks: two requests with the same key get the same answer. */
function questionKey(request: ClassifyRequest): string {
  return JSON.stringify([request.version, request.match ?? 'version', request.at ?? null, request.byUs ?? null, request.modifiedBy?.kind ?? null]);
}

export async function targetWorkflow(input: TargetWorkflowInput): Promise<void> {
  const verified = patched(VERIFIED_MESSAGES_PATCH);
  // State comes only from this workflow's own continue-as-new: a fresh start's `carried` is anyone's input.
  const carried = !verified || workflowInfo().continuedFromExecutionRunId !== undefined ? input.carried : undefined;
  const state = new TargetLedger(input.target, carried);
  const selfId = workflowInfo().workflowId;
  const taskQueue = workflowInfo().taskQueue;

  /** A refused message goes into the ledger, once per message, reason and change (an attacker cannot grow it). */
  const refuse = async (message: string, reason: string, changeWorkflowId?: string) => {
    const key = `${message}:${changeWorkflowId ?? ''}:${reason}`;
    if (state.refusalKeys.has(key) || state.refusalKeys.size >= REFUSALS_RECORDED) return;
    state.refusalKeys.add(key);
    const info = workflowInfo();
    await appendToLedger([
      {
        key: `${info.workflowId}:${info.runId}:target.message_refused:${state.refusalKeys.size}`,
        kind: 'target.message_refused',
        subject: info.workflowId,
        data: { target: targetAddress(input.target), message, reason, ...(changeWorkflowId ? { changeWorkflowId } : {}) },
      },
    ]);
  };
  /** The holder last checked to be an approved change of this object (issue 19). */
  let checkedHolder: (EnqueueRequest & { grantedAt: string }) | undefined;

  // The Temporal UI's current details: who holds the lock, who waits, the last approved version.
  const publish = () => setCurrentDetails(targetCurrentDetails(state.snapshot()));
  setHandler(enqueueSignal, (request) => {
    state.enqueue(request);
    publish();
  });
  setHandler(acquireLockUpdate, (request) => {
    const grant = state.acquire({ changeWorkflowId: request.changeWorkflowId, changeId: request.changeId }, new Date().toISOString());
    publish();
    return grant;
  }, {
    // A malformed request never reaches history.
    validator: (request) => {
      if (typeof request?.changeWorkflowId !== 'string' || !request.changeWorkflowId.startsWith('change:')) throw new Error('acquireLock: changeWorkflowId must name a change workflow');
      if (typeof request.changeId !== 'string' || request.changeId.length === 0) throw new Error('acquireLock: changeId is required');
      if (verified && request.changeWorkflowId !== changeWorkflowId(request.changeId)) throw new Error('acquireLock: changeWorkflowId is not the workflow of changeId');
    },
  });
  setHandler(releaseSignal, (request) => {
    if (verified) {
      // A wake-up: the loop reads what that change deployed from the change itself.
      const id = request?.changeWorkflowId;
      if (typeof id === 'string' && id.startsWith('change:') && !state.releaseHints.includes(id) && state.releaseHints.length < PENDING_LIMIT) state.releaseHints.push(id);
      return;
    }
    state.release(request, new Date().toISOString());
    publish();
  });
  setHandler(classifySignal, (request) => {
    if (verified) state.addPending(request);
    else state.pending.push(request);
  });
  setHandler(targetQuery, () => state.snapshot());
  setHandler(classificationQuery, (request) => (state.resolvable(request) ? state.classify(request) : undefined));

  upsertSearchAttributes([
    { key: TollgateKind, value: 'target' },
    { key: TollgateTarget, value: targetAddress(input.target) },
  ]);

  for (;;) {
    publish();
    const answered = state.grantsAnswered;
    const wake = () =>
      state.canGrant() ||
      state.releaseHints.length > 0 ||
      (verified && state.holder !== undefined && state.holder !== checkedHolder) ||
      state.pending.some((request) => state.resolvable(request)) ||
      workflowInfo().continueAsNewSuggested ||
      // A grant in an update's answer: go round once, so the wait below watches that holder.
      state.grantsAnswered !== answered;
    const woke = state.holder ? await condition(wake, HOLDER_CHECK_INTERVAL) : (await condition(wake), true);

    // Releases: applied from what the change itself says it deployed, once it let go of the lock.
    while (state.releaseHints.length > 0) {
      const id = state.releaseHints[0];
      const answer = await readReleasedDeploy({ changeWorkflowId: id, target: input.target, taskQueue });
      state.releaseHints.shift();
      if (answer.ok) {
        const { changeId, produced, unconfirmed } = answer.outcome;
        state.releaseOnce({ changeWorkflowId: id, changeId, produced, unconfirmed }, new Date().toISOString());
      } else {
        await refuse('release', answer.reason, id);
      }
      publish();
    }

    // Every new holder is checked: a running change of this deployment, approved, deploying this object. A forged
    // acquireLock (or enqueue) for anything else loses the lock at once; the next in line gets it.
    if (verified && state.holder && state.holder !== checkedHolder) {
      const holder = state.holder;
      const { problem } = await checkLockHolder({ changeWorkflowId: holder.changeWorkflowId, changeId: holder.changeId, target: input.target, taskQueue });
      checkedHolder = holder;
      if (problem && state.holder === holder && !state.releaseHints.includes(holder.changeWorkflowId)) {
        state.holder = undefined;
        await refuse('acquireLock', problem, holder.changeWorkflowId);
      }
    }

    // Answer the audits that can be answered (before granting: a grant makes later versions wait again).
    const ready = state.pending.filter((request) => state.resolvable(request));
    state.pending = state.pending.filter((request) => !state.resolvable(request));
    for (const request of ready) {
      try {
        await getExternalWorkflowHandle(request.replyTo).signal(classifiedSignal, state.classify(request));
      } catch {
        // The audit workflow is gone (terminated): nobody is waiting for the answer.
      }
    }

    while (state.canGrant()) {
      const next = state.queue.shift() as EnqueueRequest;
      state.holder = { ...next, grantedAt: new Date().toISOString() };
      // Its check comes at the top of the next round (before anything else is granted).
      try {
        await getExternalWorkflowHandle(next.changeWorkflowId).signal(lockGrantedSignal, { targetWorkflowId: selfId });
      } catch {
        // The change closed while it was queued: skip it.
        state.holder = undefined;
      }
    }

    if (!woke && state.holder) {
      // A holder that closed without releasing (e.g. terminated) must not block the object forever. A deploy
      // that is merely slow (conflict back-off, rate limits) is still running and keeps the lock.
      const holder = state.holder;
      if (!(await isWorkflowRunning(holder.changeWorkflowId)) && state.holder === holder) state.holder = undefined;
    }

    if (workflowInfo().continueAsNewSuggested && state.releaseHints.length === 0) {
      await condition(allHandlersFinished);
      const { target: _target, ...carried } = state.snapshot();
      await continueAsNew<typeof targetWorkflow>({ target: input.target, carried });
    }
  }
}
