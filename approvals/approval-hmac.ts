/**
 * Approval signatures: hex HMAC-SHA256(TOLLGATE_APPROVAL_KEY, `${changeId}\n${payloadHash}\n${approver}`).
 *
 * The seed's middleware "signs the payload with a cryptographic token" once approved; here each approver's
 * approval is signed, and bound to the change, the exact payload (its hash) and the approver, so an approval can
 * be neither replayed onto another change or payload nor re-attributed. Signing (CLI) and checking (the worker's
 * activity) share this module, so both sides compute exactly the same thing.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { approvalMessage } from '../workflows/change-policy';

export function signApproval(key: string, changeId: string, payloadHash: string, approver: string): string {
  return createHmac('sha256', key).update(approvalMessage(changeId, payloadHash, approver), 'utf8').digest('hex');
}

/** Constant-time; false (never a throw) for a signature of the wrong length or with non-hex characters. */
export function approvalSignatureValid(key: string, changeId: string, payloadHash: string, approver: string, signature: string): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-fA-F]{64}$/.test(signature)) return false;
  const expected = Buffer.from(signApproval(key, changeId, payloadHash, approver), 'hex');
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}
