/**
 * Approval signatures: hex HMAC-SHA256(TOLLGATE_APPROVAL_KEY, `${changeId}\n${payloadHash}\n${approver}`).
 *
 * The seed's middleware "signs the payload with a cryptographic token" once approved; here each approver's
 * approval is signed, and bound to the change, the exact payload (its hash) and the approver, so an approval can
 * be neither replayed onto another change or payload nor re-attributed. The key is the worker's (and CI's, which
 * signs with it); it never enters a workflow input, history or log: the check runs in this activity.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { approvalMessage } from '../workflows/change-policy';
import type { ActivityDeps } from './deps';
import { activityLogger } from './activity-logger';

export function signApproval(key: string, changeId: string, payloadHash: string, approver: string): string {
  return createHmac('sha256', key).update(approvalMessage(changeId, payloadHash, approver), 'utf8').digest('hex');
}

/** Constant-time; false (never a throw) for a signature of the wrong length or with non-hex characters. */
export function approvalSignatureValid(key: string, changeId: string, payloadHash: string, approver: string, signature: string): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-fA-F]{64}$/.test(signature)) return false;
  const expected = Buffer.from(signApproval(key, changeId, payloadHash, approver), 'hex');
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

export interface SignatureCheck {
  changeId: string;
  payloadHash: string;
  approver: string;
  signature: string;
}

export type SignatureVerdict = 'valid' | 'bad_signature' | 'no_approval_key';

export function createApprovalSignatureActivities(deps: Pick<ActivityDeps, 'config' | 'logger'>) {
  return {
    /** Fails closed: a worker without TOLLGATE_APPROVAL_KEY accepts no approval at all. */
    async verifyApprovalSignature(check: SignatureCheck): Promise<SignatureVerdict> {
      const key = deps.config.changeGate.approvalKey;
      if (!key) {
        activityLogger(deps.logger).error({ changeId: check.changeId }, 'TOLLGATE_APPROVAL_KEY is not set on the worker: refusing every approval');
        return 'no_approval_key';
      }
      return approvalSignatureValid(key, check.changeId, check.payloadHash, check.approver, check.signature) ? 'valid' : 'bad_signature';
    },
  };
}
