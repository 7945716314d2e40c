/**
 * The audit workflow's contract (`audit:<type>:<id>:<version>`): its input, its result, and the answer the target
 * workflow sends it.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Classification } from './target-messages';
import type { TargetRef } from './workflow-ids';

/** How the change was found: the seeds' signed webhook or configuration poll, or — for real Platform API objects —
 * the Audit API's poll or a notification channel. */
export type AuditSource = 'webhook' | 'poll' | 'audit_poll' | 'channel';
export interface AuditInput {
  type: string;
  id: string;
  /** The version the change produced; for a type without a version (or an entry that does not say), the change's
   * time in epoch milliseconds, with `match: 'time'`. */
  version: number;
  lastModifiedTime?: string;
  modifiedBy?: { kind: string; id: string; name?: string };
  source: AuditSource;
  eventId?: string;
  /** Made by our own OAuth client (the Audit API says which client acted). */
  byUs?: boolean;
  match?: 'version' | 'time';
  /** The audit entry's action (`Update`, `Delete`). */
  action?: string;
}
export interface AuditResult {
  target: TargetRef;
  version: number;
  source: AuditSource;
  /** `unverified`: the object never reached this version (a forged or mistaken audit); nothing alerted or reverted. */
  verdict: 'approved' | 'drift' | 'unverified';
  changeId?: string;
  alerted: boolean;
  revertChangeId?: string;
}
/** From the target workflow: "my answer for you is ready". Only a wake-up (issue 19): the audit reads the answer
 * itself (classificationQuery, by an activity); the payload is ignored. */
export const classifiedSignal = defineSignal<[Classification]>('classified');
/** The audit's verdict once it has one: a change told `audited` reads it here before it believes it. */
export interface AuditVerdict {
  version: number;
  verdict: 'pending' | 'approved' | 'drift' | 'unverified';
  changeId?: string;
}
export const auditVerdictQuery = defineQuery<AuditVerdict>('auditVerdict');
