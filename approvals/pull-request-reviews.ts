/**
 * Which pull-request reviews count as approvals of a change (seed 000: "Two senior architects review the PR").
 * A review counts only when all of these hold:
 *   - it is the reviewer's standing review (their latest APPROVED, CHANGES_REQUESTED or DISMISSED one: a later
 *     comment does not withdraw an approval, a dismissal does, as on GitHub) and its state is APPROVED;
 *   - it was given on the commit the change was planned from (a review of an older commit approved other content;
 *     a new push is a new payload, and therefore a new change);
 *   - the reviewer is not the pull request's author, and their principal is not the change's requester;
 *   - the reviewer's login maps to a principal (configuration) that is in the set of approvers;
 *   - the file at that commit canonicalises to the change's desired fields (the plan was computed from them).
 * A standing CHANGES_REQUESTED on the planned commit by such a reviewer rejects the change, naming them.
 * Every review that does not count is reported with its reason. Pure: the activity reads, this decides.
 */
import type { ReviewInfo } from '../github/client';

export type UncountedReason =
  | 'author'
  | 'requester'
  | 'dismissed'
  | 'older_commit'
  | 'unknown_login'
  | 'not_an_approver'
  | 'file_mismatch'
  | 'same_principal'
  | 'comment';

export interface CountedReview {
  principal: string;
  login: string;
  reviewId: number;
  commitId: string;
  submittedAt?: string;
}

export interface ReviewTally {
  approvals: CountedReview[];
  changesRequested?: CountedReview;
  notCounted: Array<{ login: string; reviewId: number; state: string; reason: UncountedReason }>;
}

const STANDING_STATES = new Set(['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED']);

export function tallyReviews(input: {
  reviews: readonly ReviewInfo[];
  /** The pull request author's login, lower case. */
  author: string;
  /** The change's requester (canonical principal). */
  requester: string;
  plannedCommit: string;
  /** login (lower case) → principal. */
  logins: Readonly<Record<string, string>>;
  approvers: readonly string[];
  /** The file at the planned commit canonicalises to the change's desired fields. */
  fileMatches: boolean;
}): ReviewTally {
  const standing = new Map<string, ReviewInfo>();
  const notCounted: ReviewTally['notCounted'] = [];
  for (const review of input.reviews) {
    if (STANDING_STATES.has(review.state)) standing.set(review.login, review);
    else if (review.state === 'COMMENTED') notCounted.push({ login: review.login, reviewId: review.id, state: review.state, reason: 'comment' });
  }
  const approvals: CountedReview[] = [];
  let changesRequested: CountedReview | undefined;
  // In the order they were given (review IDs grow), not in the order the reviewers first appeared.
  for (const review of [...standing.values()].sort((a, b) => a.id - b.id)) {
    const principal = input.logins[review.login];
    const skip = (reason: UncountedReason) => notCounted.push({ login: review.login, reviewId: review.id, state: review.state, reason });
    if (review.login === input.author) skip('author');
    else if (review.state === 'DISMISSED') skip('dismissed');
    else if (review.commitId !== input.plannedCommit) skip('older_commit');
    else if (principal === undefined) skip('unknown_login');
    else if (principal === input.requester) skip('requester');
    else if (!input.approvers.includes(principal)) skip('not_an_approver');
    else if (!input.fileMatches) skip('file_mismatch');
    else {
      const counted: CountedReview = { principal, login: review.login, reviewId: review.id, commitId: review.commitId, ...(review.submittedAt ? { submittedAt: review.submittedAt } : {}) };
      if (review.state === 'CHANGES_REQUESTED') changesRequested ??= counted;
      else if (approvals.some((approval) => approval.principal === principal)) skip('same_principal');
      else approvals.push(counted);
    }
  }
  return { approvals, ...(changesRequested ? { changesRequested } : {}), notCounted };
}
