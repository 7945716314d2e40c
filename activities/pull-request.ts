/**
 * Reading a linked pull request while its change awaits approval: the reviews and the file at the planned commit,
 * read by the worker with its own token, tallied by approvals/pull-request-reviews.ts. Runs when the receivers
 * pass on a signed `pull_request_review` webhook, and periodically anyway, so a lost webhook only delays.
 */
import { createHash } from 'node:crypto';
import { tallyReviews, type ReviewTally } from '../approvals/pull-request-reviews';
import type { GitHubClient } from '../github/client';
import { canonicalJson } from '../workflows/canonical-json';
import type { PullRequestLink } from '../workflows/change-messages';
import type { TargetRef } from '../workflows/workflow-ids';
import type { ActivityDeps } from './deps';

export interface PullRequestCheck {
  pullRequest: PullRequestLink;
  plannedCommit: string;
  author: string;
  requester: string;
  approvers: string[];
  desiredSha256: string;
}

export interface PullRequestReading extends ReviewTally {
  state: 'open' | 'closed' | 'merged';
  headSha: string;
}

/** The file a target's desired fields live in (TOLLGATE_GITHUB_PATH_PATTERN). */
export function expectedPath(pattern: string, target: TargetRef): string {
  return pattern.replace(/\{type\}/g, target.type).replace(/\{id\}/g, target.id);
}

/** The file at a commit, parsed as a JSON object of fields, and the sha256 of its canonical JSON. */
export async function readPullRequestFile(
  github: GitHubClient,
  repository: string,
  path: string,
  ref: string,
): Promise<{ ok: true; sha256: string } | { ok: false; problem: string }> {
  const text = await github.fileAt(repository, path, ref);
  if (text === undefined) return { ok: false, problem: 'no such file at that commit' };
  let fields: unknown;
  try {
    fields = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'the file is not JSON' };
  }
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) return { ok: false, problem: 'the file is not a JSON object of fields' };
  return { ok: true, sha256: createHash('sha256').update(canonicalJson(fields), 'utf8').digest('hex') };
}

export function createPullRequestActivities(deps: Pick<ActivityDeps, 'config' | 'github'>) {
  return {
    async checkPullRequestReviews(check: PullRequestCheck): Promise<PullRequestReading> {
      const github = deps.config.changeGate.github;
      if (!deps.github || !github) throw new Error('this worker has no Git host configured (TOLLGATE_GITHUB_TOKEN)');
      const { repository, number, path } = check.pullRequest;
      const pull = await deps.github.pullRequest(repository, number);
      if (!pull) return { state: 'closed', headSha: check.plannedCommit, approvals: [], notCounted: [] };
      const [reviews, file] = await Promise.all([deps.github.reviews(repository, number), readPullRequestFile(deps.github, repository, path, check.plannedCommit)]);
      const tally = tallyReviews({
        reviews,
        author: check.author,
        requester: check.requester,
        plannedCommit: check.plannedCommit,
        logins: github.logins,
        approvers: check.approvers,
        fileMatches: file.ok && file.sha256 === check.desiredSha256,
      });
      return { state: pull.state, headSha: pull.headSha, ...tally };
    },
  };
}
