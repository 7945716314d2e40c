/**
 * What a requester signs when submitting a change: the `submit` statement (approvals/statement.ts) over the hash of
 * the requested fields. Computed alike by the CLI (to sign) and the worker's activity (to verify), so both hash
 * exactly the same canonical JSON.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../workflows/canonical-json';
import type { Fields } from '../workflows/config-merge';
import type { TargetRef } from '../workflows/workflow-ids';
import type { SubmitStatement } from './statement';

export interface SubmissionRequest {
  changeId: string;
  target: TargetRef;
  desired: Fields;
  replace?: boolean;
  reason?: string;
  requester: string;
  /** The linked pull request, as `owner/repo#N:path`. */
  pullRequest?: string;
}

/** sha256 hex of canonicalJson({ desired, replace, reason }): what is requested, bound by the requester's signature. */
export function requestHash(request: Pick<SubmissionRequest, 'desired' | 'replace' | 'reason'>): string {
  return createHash('sha256')
    .update(canonicalJson({ desired: request.desired, replace: request.replace ?? false, reason: request.reason ?? null }), 'utf8')
    .digest('hex');
}

export function submissionStatement(request: SubmissionRequest, namespace: string): SubmitStatement {
  return {
    decision: 'submit',
    namespace,
    changeId: request.changeId,
    target: request.target,
    requestHash: requestHash(request),
    ...(request.pullRequest ? { pullRequest: request.pullRequest } : {}),
    principal: request.requester,
  };
}
