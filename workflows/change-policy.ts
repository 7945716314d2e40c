/**
 * The approval policy, as pure functions the change workflow's update validators call. A refusal here happens in
 * the validator, so it never reaches the workflow's history and the caller (CI) gets a stable code:
 *   not_awaiting_approval, self_approval, unknown_approver, duplicate_approver, wrong_payload_hash, bad_signature.
 * The HMAC itself is checked by an activity (the key lives only in the worker); the validator only refuses a
 * signature that cannot be one (not 64 hex characters).
 */
import type { Approval, ApprovalRequest, ChangeState, RejectRequest } from './change-messages';

export const APPROVAL_REFUSALS = [
  'not_awaiting_approval',
  'self_approval',
  'unknown_approver',
  'duplicate_approver',
  'wrong_payload_hash',
  'bad_signature',
] as const;
export type ApprovalRefusalCode = (typeof APPROVAL_REFUSALS)[number];

export interface Refusal<Code extends string = ApprovalRefusalCode> {
  code: Code;
  message: string;
}

export interface ApprovalContext {
  changeId: string;
  state: ChangeState;
  requester: string;
  approvers: readonly string[];
  approvals: readonly Approval[];
  payloadHash?: string;
}

const SIGNATURE = /^[0-9a-f]{64}$/i;

/** The text an approver's HMAC covers: the change, the exact payload, and who approves it. */
export function approvalMessage(changeId: string, payloadHash: string, approver: string): string {
  return `${changeId}\n${payloadHash}\n${approver}`;
}

export function approvalRefusal(context: ApprovalContext, request: ApprovalRequest): Refusal | undefined {
  if (context.state !== 'awaiting_approval' || !context.payloadHash) {
    return { code: 'not_awaiting_approval', message: `change ${context.changeId} is ${context.state}, not awaiting approval` };
  }
  if (request.approver === context.requester) {
    return { code: 'self_approval', message: `${request.approver} requested this change and cannot approve it` };
  }
  if (!context.approvers.includes(request.approver)) {
    return { code: 'unknown_approver', message: `${request.approver} is not in the configured set of approvers` };
  }
  if (context.approvals.some((approval) => approval.approver === request.approver)) {
    return { code: 'duplicate_approver', message: `${request.approver} has already approved this change` };
  }
  if (request.payloadHash !== context.payloadHash) {
    return {
      code: 'wrong_payload_hash',
      message: `the approval is for payload ${short(request.payloadHash)}, the plan's payload is ${short(context.payloadHash)}`,
    };
  }
  if (typeof request.signature !== 'string' || !SIGNATURE.test(request.signature)) {
    return { code: 'bad_signature', message: 'the signature is not a hex HMAC-SHA256' };
  }
  return undefined;
}

export type RejectionRefusalCode = 'not_awaiting_approval' | 'unknown_approver' | 'missing_reason';

/** Anyone in the approver set may reject; the requester may withdraw (the change ends `cancelled`). */
export function rejectionRefusal(context: ApprovalContext, request: RejectRequest): Refusal<RejectionRefusalCode> | undefined {
  if (context.state !== 'awaiting_approval' && context.state !== 'planning') {
    return { code: 'not_awaiting_approval', message: `change ${context.changeId} is ${context.state}, not awaiting approval` };
  }
  if (request.approver !== context.requester && !context.approvers.includes(request.approver)) {
    return { code: 'unknown_approver', message: `${request.approver} is not in the configured set of approvers` };
  }
  if (typeof request.reason !== 'string' || request.reason.trim().length === 0) {
    return { code: 'missing_reason', message: 'a rejection needs a reason' };
  }
  return undefined;
}

function short(hash: string | undefined): string {
  return typeof hash === 'string' ? hash.slice(0, 12) : String(hash);
}
