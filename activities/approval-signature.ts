/**
 * The approval signature check, as an activity: the key is the worker's and never enters a workflow input, history
 * or log (approvals/approval-hmac.ts says what is signed).
 */
import { approvalSignatureValid } from '../approvals/approval-hmac';
import { activityLogger } from './activity-logger';
import type { ActivityDeps } from './deps';

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
