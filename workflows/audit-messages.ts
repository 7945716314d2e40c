/**
 * The audit workflow's contract (`audit:<type>:<id>:<version>`): its input, its result, and the answer the target
 * workflow sends it.
 */
import { defineSignal } from '@temporalio/workflow';
import type { Classification } from './target-messages';
import type { TargetRef } from './workflow-ids';

export type AuditSource = 'webhook' | 'poll';
export interface AuditInput {
  type: string;
  id: string;
  version: number;
  lastModifiedTime?: string;
  modifiedBy?: { kind: string; id: string };
  source: AuditSource;
  eventId?: string;
}
export interface AuditResult {
  target: TargetRef;
  version: number;
  source: AuditSource;
  verdict: 'approved' | 'drift';
  changeId?: string;
  alerted: boolean;
  revertChangeId?: string;
}
export const classifiedSignal = defineSignal<[Classification]>('classified');
