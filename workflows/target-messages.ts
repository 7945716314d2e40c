/**
 * The target workflow's contract (`target:<type>:<id>`): one Genesys Cloud object's deploy lock and ledger. Change
 * workflows enqueue and release; audit workflows ask it to classify a version; operators query its snapshot.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Fields } from './config-merge';
import type { TargetRef } from './workflow-ids';

export type LedgerKind = 'deploy' | 'rollback';
export interface LedgerEntry {
  version: number;
  changeId: string;
  kind: LedgerKind;
  at: string;
}
export interface ProducedVersion {
  version: number;
  kind: LedgerKind;
  fields: Fields;
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
  /** Versions a write whose outcome stayed unknown may have produced (see workflows/change.ts). */
  unconfirmed?: number[];
}
export interface ClassifyRequest {
  version: number;
  /** The audit workflow to answer with `classifiedSignal`. */
  replyTo: string;
  modifiedBy?: { kind: string; id: string };
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
  unconfirmed: { version: number; changeId: string }[];
  pendingClassifications: ClassifyRequest[];
}
export const enqueueSignal = defineSignal<[EnqueueRequest]>('enqueue');
export const releaseSignal = defineSignal<[ReleaseRequest]>('release');
export const classifySignal = defineSignal<[ClassifyRequest]>('classify');
export const targetQuery = defineQuery<TargetSnapshot>('target');

export interface TargetWorkflowInput {
  target: TargetRef;
  /** State carried across continue-as-new. */
  carried?: Omit<TargetSnapshot, 'target'>;
}
