/**
 * The worker's GitHub REST client (`@octokit/rest`, pointed at TOLLGATE_GITHUB_API_URL: api.github.com, a GitHub
 * Enterprise `/api/v3`, or the emulator's `/github` in sandbox mode), with the worker's own token. It reads what
 * the change gate needs to count a pull-request review as an approval — the pull request, its reviews, and a file
 * at a commit — and nothing else. CI never tells the worker what a review said: the worker reads it here.
 *
 * Every answer is validated (zod): the Git host's responses are input like any other. A 404 is "not there"
 * (undefined); 401 / 403 are GitHubAccessError (a token problem that retrying cannot fix); anything else is thrown
 * as it is, for the activity's retry policy.
 */
import { Octokit } from '@octokit/rest';
import { z } from 'zod';
import type { Logger } from '../platform/logger';

export class GitHubAccessError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GitHubAccessError';
  }
}

const PullRequestSchema = z.object({
  number: z.number().int().positive(),
  state: z.enum(['open', 'closed']),
  merged: z.boolean().nullish(),
  html_url: z.string().optional(),
  user: z.object({ login: z.string().min(1) }),
  head: z.object({ sha: z.string().regex(/^[0-9a-f]{40}$/) }),
});

const ReviewSchema = z.object({
  id: z.number().int(),
  user: z.object({ login: z.string().min(1) }).nullable(),
  state: z.string(),
  commit_id: z.string().nullable().optional(),
  submitted_at: z.string().nullish(),
});

const FileSchema = z.object({
  type: z.literal('file'),
  encoding: z.literal('base64'),
  content: z.string(),
});

export interface PullRequestInfo {
  number: number;
  state: 'open' | 'closed' | 'merged';
  /** The author's login, lower case. */
  author: string;
  headSha: string;
  url?: string;
}

export interface ReviewInfo {
  id: number;
  /** Lower case; `ghost` for a deleted account. */
  login: string;
  /** APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING. */
  state: string;
  commitId?: string;
  submittedAt?: string;
}

export interface GitHubClientOptions {
  apiUrl: string;
  token: string;
  timeoutMs?: number;
}

function split(repository: string): { owner: string; repo: string } {
  const [owner, repo] = repository.split('/');
  return { owner, repo };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

export class GitHubClient {
  private readonly octokit: Octokit;
  private readonly timeoutMs: number;

  constructor(options: GitHubClientOptions, private readonly logger?: Logger) {
    this.octokit = new Octokit({ auth: options.token, baseUrl: options.apiUrl.replace(/\/+$/, ''), userAgent: 'tollgate' });
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  private async call<T>(what: string, run: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    try {
      return await run(AbortSignal.timeout(this.timeoutMs));
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return undefined;
      if (status === 401 || status === 403) throw new GitHubAccessError(status, `GitHub refused the worker's token reading ${what} (${status})`);
      this.logger?.warn({ what, status, err: (error as Error).message }, 'GitHub call failed');
      throw error;
    }
  }

  async pullRequest(repository: string, number: number): Promise<PullRequestInfo | undefined> {
    const response = await this.call(`${repository}#${number}`, (signal) => this.octokit.pulls.get({ ...split(repository), pull_number: number, request: { signal } }));
    if (!response) return undefined;
    const pull = PullRequestSchema.parse(response.data);
    return {
      number: pull.number,
      state: pull.state === 'open' ? 'open' : pull.merged ? 'merged' : 'closed',
      author: pull.user.login.toLowerCase(),
      headSha: pull.head.sha,
      url: pull.html_url,
    };
  }

  /** Every review, oldest first, across all pages. */
  async reviews(repository: string, number: number): Promise<ReviewInfo[]> {
    const reviews = await this.call(`the reviews of ${repository}#${number}`, (signal) =>
      this.octokit.paginate(this.octokit.pulls.listReviews, { ...split(repository), pull_number: number, per_page: 100, request: { signal } }),
    );
    return z
      .array(ReviewSchema)
      .parse(reviews ?? [])
      .map((review) => ({
        id: review.id,
        login: (review.user?.login ?? 'ghost').toLowerCase(),
        state: review.state.toUpperCase(),
        ...(review.commit_id ? { commitId: review.commit_id } : {}),
        ...(review.submitted_at ? { submittedAt: review.submitted_at } : {}),
      }));
  }

  /** The text of `path` at commit `ref`; undefined when there is no such file there. */
  async fileAt(repository: string, path: string, ref: string): Promise<string | undefined> {
    const response = await this.call(`${repository}:${path}@${ref}`, (signal) => this.octokit.repos.getContent({ ...split(repository), path, ref, request: { signal } }));
    if (!response) return undefined;
    const parsed = FileSchema.safeParse(response.data);
    if (!parsed.success) return undefined;
    return Buffer.from(parsed.data.content.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
}
