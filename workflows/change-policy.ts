/**
 * The approval policy, as pure functions the change workflow's update validators call. A refusal here happens in
 * the validator, so it never reaches the workflow's history and the caller (CI) gets a stable code. In the order
 * they are checked:
 *
 *   blank_principal        the approver's name is blank (after trimming)
 *   not_awaiting_approval  the change is planning, already approved, or over
 *   unsigned               no statement or no signature was presented
 *   self_approval          the approver is the requester (compared trimmed and case-insensitively)
 *   unknown_approver       not in the configured set of approvers (a rejection: nor the requester)
 *   duplicate_approver     this principal already approved
 *   malformed_statement, wrong_namespace, wrong_change, wrong_run, wrong_target, wrong_base_version,
 *   wrong_payload_hash, wrong_decision, principal_mismatch
 *                          the signed statement is not the one this decision needs (approvals/statement.ts)
 *   bad_signature          the signature is not even an armored SSH signature
 *   missing_reason         a rejection without a reason
 *
 * The signature itself is verified by an activity against the allowed signers (workflow code never does I/O), so
 * `bad_signature` for a signature that does not verify, and `unknown_principal` for a principal without a key,
 * come from the update handler and do show in history as a failed update.
 */
import { canonicalPrincipal, principalProblem } from '../approvals/principal';
import { renderStatement, statementMismatch, type DecisionStatement, type StatementMismatchCode } from '../approvals/statement';
import type { Approval, ApprovalRequest, ChangeState, Plan, RejectRequest, SignedDecision } from './change-messages';
import type { TargetRef } from './workflow-ids';

export const APPROVAL_REFUSALS = [
  'blank_principal',
  'not_awaiting_approval',
  'unsigned',
  'self_approval',
  'unknown_approver',
  'duplicate_approver',
  'malformed_statement',
  'wrong_namespace',
  'wrong_change',
  'wrong_run',
  'wrong_target',
  'wrong_base_version',
  'wrong_payload_hash',
  'wrong_decision',
  'principal_mismatch',
  'stale_plan',
  'bad_signature',
  'unknown_principal',
] as const;
export type ApprovalRefusalCode = (typeof APPROVAL_REFUSALS)[number] | StatementMismatchCode;

export interface Refusal<Code extends string = ApprovalRefusalCode> {
  code: Code;
  message: string;
}

export interface ApprovalContext {
  namespace: string;
  changeId: string;
  runId: string;
  target: TargetRef;
  state: ChangeState;
  /** The canonical requester. */
  requester: string;
  /** Canonical principals. */
  approvers: readonly string[];
  approvals: readonly Approval[];
  plan?: Pick<Plan, 'baseVersion' | 'payloadHash'>;
}

/** The statement a principal must sign to approve or reject this run of this change, as it stands. */
export function decisionStatement(
  context: Pick<ApprovalContext, 'namespace' | 'changeId' | 'runId' | 'target'> & { plan: Pick<Plan, 'baseVersion' | 'payloadHash'> },
  decision: 'approve' | 'reject',
  principal: string,
): DecisionStatement {
  return {
    decision,
    namespace: context.namespace,
    changeId: context.changeId,
    runId: context.runId,
    target: context.target,
    baseVersion: context.plan.baseVersion,
    payloadHash: context.plan.payloadHash,
    principal,
  };
}

/** The text of that statement (what `tollgate change statement` prints). */
export function decisionStatementText(...args: Parameters<typeof decisionStatement>): string {
  return renderStatement(decisionStatement(...args));
}

const ARMORED = /^\s*-----BEGIN SSH SIGNATURE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END SSH SIGNATURE-----\s*$/;

/** The checks a signed statement gets before its signature is verified. */
function statementRefusal(context: ApprovalContext, request: SignedDecision, decision: 'approve' | 'reject', principal: string): Refusal | undefined {
  const mismatch = statementMismatch(request.statement, decisionStatement({ ...context, plan: context.plan! }, decision, principal));
  if (mismatch) return mismatch;
  if (request.signature.length > 16 * 1024 || !ARMORED.test(request.signature)) {
    return { code: 'bad_signature', message: 'the signature is not an armored SSH signature (-----BEGIN SSH SIGNATURE-----)' };
  }
  return undefined;
}

function unsigned(request: Partial<SignedDecision>): boolean {
  return typeof request.statement !== 'string' || request.statement.trim() === '' || typeof request.signature !== 'string' || request.signature.trim() === '';
}

export function approvalRefusal(context: ApprovalContext, request: ApprovalRequest): Refusal | undefined {
  const principal = canonicalPrincipal(request.approver);
  if (!principal) return { code: 'blank_principal', message: principalProblem(request.approver) ?? 'not a principal' };
  if (context.state !== 'awaiting_approval' || !context.plan) {
    return { code: 'not_awaiting_approval', message: `change ${context.changeId} is ${context.state}, not awaiting approval` };
  }
  if (unsigned(request)) return { code: 'unsigned', message: 'an approval carries the signed statement and its SSH signature' };
  if (principal === context.requester) {
    return { code: 'self_approval', message: `${principal} requested this change and cannot approve it` };
  }
  if (!context.approvers.includes(principal)) {
    return { code: 'unknown_approver', message: `${principal} is not in the configured set of approvers` };
  }
  if (context.approvals.some((approval) => approval.approver === principal)) {
    return { code: 'duplicate_approver', message: `${principal} has already approved this change` };
  }
  return statementRefusal(context, request, 'approve', principal);
}

export type RejectionRefusalCode = ApprovalRefusalCode | 'missing_reason';

/** Anyone in the approver set may reject; the requester may withdraw (the change ends `cancelled`). Either way it
 * is signed: anyone who can reach Temporal could otherwise end any change by naming its requester. */
export function rejectionRefusal(context: ApprovalContext, request: RejectRequest): Refusal<RejectionRefusalCode> | undefined {
  const principal = canonicalPrincipal(request.approver);
  if (!principal) return { code: 'blank_principal', message: principalProblem(request.approver) ?? 'not a principal' };
  if (context.state !== 'awaiting_approval' || !context.plan) {
    return { code: 'not_awaiting_approval', message: `change ${context.changeId} is ${context.state}, not awaiting approval` };
  }
  if (unsigned(request)) return { code: 'unsigned', message: 'a rejection carries the signed statement and its SSH signature' };
  if (principal !== context.requester && !context.approvers.includes(principal)) {
    return { code: 'unknown_approver', message: `${principal} is neither the requester nor in the configured set of approvers` };
  }
  if (typeof request.reason !== 'string' || request.reason.trim().length === 0) {
    return { code: 'missing_reason', message: 'a rejection needs a reason' };
  }
  return statementRefusal(context, request, 'reject', principal);
}
