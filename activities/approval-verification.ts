/**
 * Who decided, proven by the worker (never by workflow code, never by CI): SSH signatures over statements checked
 * against the allowed-signers file (public keys only, re-read at every check so a removed key is refused without
 * a restart), and submissions proven either by the requester's signature or by the pull request they are linked
 * to, read from the Git host with the worker's own token. Verdicts are returned, not thrown: a refusal is an
 * answer, and retrying it would change nothing.
 */
import { createHash } from 'node:crypto';
import { canonicalPrincipal, principalProblem } from '../approvals/principal';
import { verifyStatementSignature, type SignatureVerdict } from '../approvals/signed-statement';
import { renderStatement } from '../approvals/statement';
import { submissionStatement } from '../approvals/submission';
import { GitHubAccessError } from '../github/client';
import { canonicalJson } from '../workflows/canonical-json';
import { pullRequestReference, type ChangeInput, type PullRequestStatus, type SubmissionProof } from '../workflows/change-messages';
import { activityLogger } from './activity-logger';
import type { ActivityDeps } from './deps';
import { expectedPath, readPullRequestFile } from './pull-request';

export interface SignatureCheck {
  statement: string;
  principal: string;
  signature: string;
}

export type SubmissionCheck = Pick<ChangeInput, 'changeId' | 'target' | 'desired' | 'replace' | 'reason' | 'requester' | 'submission' | 'pullRequest'> & {
  namespace: string;
};

export type SubmissionVerdict =
  | { ok: true; proof: SubmissionProof; pullRequest?: PullRequestStatus }
  | { ok: false; code: string; message: string };

/** sha256 hex of the canonical JSON of a change's desired fields. */
export function desiredSha256(desired: unknown): string {
  return createHash('sha256').update(canonicalJson(desired), 'utf8').digest('hex');
}

export function createApprovalVerificationActivities(deps: Pick<ActivityDeps, 'config' | 'logger' | 'allowedSigners' | 'github'>) {
  const verifySignature = async (check: SignatureCheck): Promise<SignatureVerdict> => {
    if (!deps.allowedSigners) {
      return { ok: false, code: 'bad_signature', message: 'this worker has no allowed-signers file (TOLLGATE_ALLOWED_SIGNERS): SSH signatures are not accepted' };
    }
    let allowed;
    try {
      allowed = await deps.allowedSigners.current();
    } catch (error) {
      // Fail closed: a missing or unreadable file means no key speaks for anyone.
      activityLogger(deps.logger).error({ path: deps.allowedSigners.path, err: (error as Error).message }, 'cannot read the allowed-signers file: refusing every signature');
      return { ok: false, code: 'unknown_principal', message: `the worker cannot read its allowed-signers file: ${(error as NodeJS.ErrnoException).code ?? 'error'}` };
    }
    return verifyStatementSignature({ statement: check.statement, principal: check.principal, signature: check.signature, allowed });
  };

  return {
    /** An approval's or a rejection's signature over the statement the workflow rendered from its own facts. */
    async verifyDecisionSignature(check: SignatureCheck): Promise<SignatureVerdict> {
      const verdict = await verifySignature(check);
      activityLogger(deps.logger).info({ principal: check.principal, ok: verdict.ok, ...(verdict.ok ? { key: verdict.fingerprint } : { code: verdict.code }) }, 'decision signature checked');
      return verdict;
    },

    /**
     * Proves who submitted a change: the requester's SSH signature over the `submit` statement, or — for a change
     * linked to a pull request — the pull request itself: open, in an allowed repository, holding exactly the
     * submitted fields at its head commit in the file the target maps to, authored by the requester.
     */
    async verifySubmission(check: SubmissionCheck): Promise<SubmissionVerdict> {
      const requester = canonicalPrincipal(check.requester);
      if (!requester) return { ok: false, code: 'blank_principal', message: principalProblem(check.requester) ?? 'the requester is not a principal' };
      if (!check.submission?.signature && !check.pullRequest) {
        return { ok: false, code: 'unsigned', message: 'a submission is signed by its requester (--key or --signature) or linked to a pull request (--pull-request)' };
      }
      let proof: SubmissionProof | undefined;
      if (check.submission?.signature) {
        const statement = renderStatement(
          submissionStatement(
            {
              changeId: check.changeId,
              target: check.target,
              desired: check.desired,
              replace: check.replace,
              reason: check.reason,
              requester,
              ...(check.pullRequest ? { pullRequest: pullRequestReference(check.pullRequest) } : {}),
            },
            check.namespace,
          ),
        );
        const verdict = await verifySignature({ statement, principal: requester, signature: check.submission.signature });
        if (!verdict.ok) return verdict;
        proof = { requester, via: 'signature', keyFingerprint: verdict.fingerprint };
      }
      if (!check.pullRequest) return { ok: true, proof: proof! };

      const github = deps.config.changeGate.github;
      if (!deps.github || !github) return { ok: false, code: 'no_git_host', message: 'this worker has no Git host configured (TOLLGATE_GITHUB_TOKEN)' };
      const link = check.pullRequest;
      const key = `${link.repository}#${link.number}`;
      if (github.repositories && !github.repositories.includes(link.repository.toLowerCase())) {
        return { ok: false, code: 'repository_not_allowed', message: `${link.repository} is not in TOLLGATE_GITHUB_REPOSITORIES` };
      }
      const path = expectedPath(github.pathPattern, check.target);
      if (link.path !== path) {
        // Reviewers approve the file they see in the pull request: it must be the one this target maps to.
        return { ok: false, code: 'path_mismatch', message: `the file of ${check.target.type}/${check.target.id} is ${path}, not ${link.path}` };
      }
      let pull;
      let file;
      try {
        pull = await deps.github.pullRequest(link.repository, link.number);
        if (!pull) return { ok: false, code: 'pull_request_not_found', message: `no pull request ${key} (or the worker's token cannot read it)` };
        if (pull.state === 'closed') return { ok: false, code: 'pull_request_closed', message: `pull request ${key} is closed` };
        file = await readPullRequestFile(deps.github, link.repository, link.path, pull.headSha);
      } catch (error) {
        // A refused token will not be accepted on a retry; an unreachable GitHub is retried by the activity's policy.
        if (error instanceof GitHubAccessError) return { ok: false, code: 'git_host_refused', message: error.message };
        throw error;
      }
      if (!file.ok) return { ok: false, code: 'pull_request_mismatch', message: `${link.path} at ${pull.headSha.slice(0, 12)}: ${file.problem}` };
      if (check.replace || file.sha256 !== desiredSha256(check.desired)) {
        return { ok: false, code: 'pull_request_mismatch', message: `${link.path} at the head of ${key} (${pull.headSha.slice(0, 12)}) is not the submitted change` };
      }
      const authorPrincipal = github.logins[pull.author] ?? `github:${pull.author}`;
      if (!proof) {
        // No signature: the pull request proves the requester, who must be its author.
        if (requester !== pull.author && requester !== authorPrincipal) {
          return { ok: false, code: 'requester_mismatch', message: `${key} was opened by ${pull.author}, not ${requester}` };
        }
        proof = { requester: authorPrincipal, via: 'pull_request' };
      }
      return {
        ok: true,
        proof,
        pullRequest: {
          ...link,
          ...(pull.url ? { url: pull.url } : {}),
          author: pull.author,
          plannedCommit: pull.headSha,
          desiredSha256: file.sha256,
          state: pull.state,
          notCounted: [],
        },
      };
    },
  };
}
