/**
 * The target workflow's contract (`target:<type>:<id>`): one Genesys Cloud object's deploy lock and ledger. Change
 * workflows acquire (an update, sent for them by an activity) and release; audit workflows ask it to classify a
 * version; operators query its snapshot.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Fields } from './config-merge';
import type { TargetRef } from './workflow-ids';

export type LedgerKind = 'deploy' | 'rollback';
export interface LedgerEntry {
  version: number;
  changeId: string;
  kind: LedgerKind;
  /** When the deploy learnt that its write had landed (for types without a version, audits are matched by time). */
  at: string;
  /** False for a type without a version: the entry's `version` means nothing, its time does. */
  versioned?: boolean;
}
export interface ProducedVersion {
  version: number;
  kind: LedgerKind;
  fields: Fields;
  at?: string;
  versioned?: boolean;
}
/** A write whose outcome stayed unknown: it may land later, and if it does, it is the gate's own write. */
export interface UnconfirmedWrite {
  /** The version it would produce (types with a version). */
  version?: number;
  fields: Fields;
  /** When its outcome was found unknown. */
  at: string;
}
export interface EnqueueRequest {
  changeWorkflowId: string;
  changeId: string;
}
export interface ReleaseRequest {
  changeWorkflowId: string;
  changeId: string;
  /** Versions this deploy wrote, in order; the last one's fields become the last approved state. */
  produced: ProducedVersion[];
  /** Writes whose outcome stayed unknown (see workflows/change.ts): any of them may land later. */
  unconfirmed?: UnconfirmedWrite[];
}
export interface ClassifyRequest {
  version: number;
  /** The audit workflow to answer with `classifiedSignal`. */
  replyTo: string;
  modifiedBy?: { kind: string; id: string; name?: string };
  /** The change was made by our own OAuth client (undefined: unknown, e.g. a seed webhook naming a client). */
  byUs?: boolean;
  /** `version` (default): the version names the change. `time`: the type has no version (or the audit entry does
   * not say it); a write of ours is recognised by our client and the time of the change (`at`). */
  match?: 'version' | 'time';
  at?: string;
}
export interface Classification {
  version: number;
  approved: boolean;
  changeId?: string;
  kind?: LedgerKind;
  /** The state the gate last wrote, for a drift revert. */
  lastApproved?: { version: number; fields: Fields; changeId: string };
}
export interface TargetSnapshot {
  target: TargetRef;
  holder?: EnqueueRequest & { grantedAt: string };
  queue: EnqueueRequest[];
  ledger: LedgerEntry[];
  lastApproved?: { version: number; fields: Fields; changeId: string };
  unconfirmed: (UnconfirmedWrite & { changeId: string })[];
  pendingClassifications: ClassifyRequest[];
  /** Changes whose release was applied (issue 19: once each). */
  released?: string[];
  /** Changes that said `release`, yet to be read. */
  releaseHints?: string[];
}
/** The answer to `acquireLock`: the lock is the caller's now, or the caller is queued and is signalled
 * `lockGranted` in its turn (first come, first served). */
export interface LockGrant {
  granted: boolean;
  /** 1-based place in the queue when not granted. */
  position?: number;
}
/** Changes before the acquireLock update (their histories replay): queue and wait for `lockGranted`. */
export const enqueueSignal = defineSignal<[EnqueueRequest]>('enqueue');
/**
 * Takes the lock at once when it is free and nobody is queued, else queues the change (idempotent: a change holding
 * the lock is told so again; a queued one keeps its place). Answered in the target's own workflow task, so an
 * uncontended deploy starts without waiting for a signal (issue 14).
 */
export const acquireLockUpdate = defineUpdate<LockGrant, [EnqueueRequest]>('acquireLock');
export const releaseSignal = defineSignal<[ReleaseRequest]>('release');
export const classifySignal = defineSignal<[ClassifyRequest]>('classify');
export const targetQuery = defineQuery<TargetSnapshot>('target');
/**
 * The target's answer for one audit's own request (issue 19): the audit reads it with an activity rather than trusting
 * a `classified` signal, which only wakes it. Undefined while the version cannot be judged yet (a deploy in flight).
 */
export const classificationQuery = defineQuery<Classification | undefined, [ClassifyRequest]>('classification');

export interface TargetWorkflowInput {
  target: TargetRef;
  /** State carried across continue-as-new. */
  carried?: Omit<TargetSnapshot, 'target'>;
}
