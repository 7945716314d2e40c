/**
 * The emulator plays GitHub for the change gate's pull-request path, as a separate program would: the few REST
 * routes the worker reads (a pull request, its reviews, a file's contents at a commit; under `/github`, token
 * required), the admin routes a test or a demo drives (open a pull request, push a commit, submit or dismiss a
 * review, close it; under `/__emulator/github`), and the signed webhooks GitHub sends for them
 * (`pull_request`, `pull_request_review`; `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`), to the
 * hooks registered with `POST /__emulator/github/hooks`. Like GitHub, a failed delivery is not retried.
 *
 * Its state lives beside the rest of the emulator's and is replaced with it on `POST /__emulator/reset`.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { hmacSha256Hex } from './delivery';
import { HttpError, parseWith } from './errors';
import { sameSecret } from './secrets';
import type { EmulatorState } from './state';

interface Commit {
  sha: string;
  repository: string;
  files: Map<string, string>;
  createdAt: string;
}

interface PullRequest {
  repository: string;
  number: number;
  title: string;
  author: string;
  state: 'open' | 'closed';
  merged: boolean;
  headRef: string;
  baseRef: string;
  baseSha: string;
  headSha: string;
  createdAt: string;
  updatedAt: string;
}

interface Review {
  id: number;
  login: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  commitId: string;
  body: string;
  submittedAt: string;
}

interface Hook {
  id: number;
  url: string;
  secret: string;
  events: string[];
}

class GitHubState {
  readonly commits = new Map<string, Commit>();
  readonly pulls = new Map<string, PullRequest>();
  readonly reviews = new Map<string, Review[]>();
  readonly nextNumber = new Map<string, number>();
  readonly hooks: Hook[] = [];
  nextId = 1;
}

/** One GitHub state per emulator state, so a reset (which replaces ctx.state) starts GitHub afresh too. */
const states = new WeakMap<EmulatorState, GitHubState>();
function github(ctx: EmulatorContext): GitHubState {
  let state = states.get(ctx.state);
  if (!state) {
    state = new GitHubState();
    states.set(ctx.state, state);
  }
  return state;
}

const pullKey = (repository: string, number: number) => `${repository.toLowerCase()}#${number}`;
const NAME = /^[A-Za-z0-9_.-]+$/;
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;

function repositoryOf(req: Request): string {
  const { owner, repo } = req.params as Record<string, string>;
  if (!NAME.test(owner) || !NAME.test(repo)) throw new HttpError(404, 'not_found', 'Not Found');
  return `${owner}/${repo}`.toLowerCase();
}

function newSha(): string {
  return createHash('sha1').update(randomBytes(32)).digest('hex');
}

function findPull(state: GitHubState, repository: string, number: string): PullRequest {
  const pull = state.pulls.get(pullKey(repository, Number(number)));
  if (!pull) throw new HttpError(404, 'not_found', 'Not Found');
  return pull;
}

function pullJson(pull: PullRequest) {
  const [owner, name] = pull.repository.split('/');
  return {
    number: pull.number,
    title: pull.title,
    state: pull.state,
    merged: pull.merged,
    html_url: `https://github.example/${pull.repository}/pull/${pull.number}`,
    user: { login: pull.author, type: pull.author.endsWith('[bot]') ? 'Bot' : 'User' },
    head: { sha: pull.headSha, ref: pull.headRef, repo: { full_name: pull.repository } },
    base: { sha: pull.baseSha, ref: pull.baseRef, repo: { full_name: pull.repository, name, owner: { login: owner } } },
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
  };
}

function reviewJson(review: Review) {
  return {
    id: review.id,
    user: { login: review.login },
    body: review.body,
    state: review.state,
    commit_id: review.commitId,
    submitted_at: review.submittedAt,
  };
}

/** Sends a webhook to every hook that wants the event: the body signed as GitHub signs it, never retried. */
function sendWebhook(ctx: EmulatorContext, event: string, payload: Record<string, unknown>): string[] {
  const bytes = Buffer.from(JSON.stringify(payload));
  return github(ctx)
    .hooks.filter((hook) => hook.events.includes('*') || hook.events.includes(event))
    .map(
      (hook) =>
        ctx.deliveries.enqueue({
          kind: 'github',
          url: hook.url,
          retry: { maxRetries: 0, initialDelayMs: 0, backoffMultiplier: 1 },
          timeoutMs: 10_000,
          render: () => ({
            body: payload,
            bytes,
            headers: {
              'Content-Type': 'application/json',
              'User-Agent': 'GitHub-Hookshot/emulator',
              'X-GitHub-Event': event,
              'X-GitHub-Delivery': randomUUID(),
              'X-GitHub-Hook-ID': String(hook.id),
              'X-Hub-Signature-256': `sha256=${hmacSha256Hex(hook.secret, bytes)}`,
            },
          }),
        }).id,
    );
}

function repositoryPayload(repository: string) {
  const [owner, name] = repository.split('/');
  return { full_name: repository, name, owner: { login: owner } };
}

function pullRequestEvent(ctx: EmulatorContext, pull: PullRequest, action: string, sender: string): string[] {
  return sendWebhook(ctx, 'pull_request', { action, number: pull.number, pull_request: pullJson(pull), repository: repositoryPayload(pull.repository), sender: { login: sender } });
}

function reviewEvent(ctx: EmulatorContext, pull: PullRequest, review: Review, action: 'submitted' | 'dismissed'): string[] {
  return sendWebhook(ctx, 'pull_request_review', {
    action,
    // Webhook payloads carry the review state in lower case.
    review: { ...reviewJson(review), state: review.state.toLowerCase() },
    pull_request: pullJson(pull),
    repository: repositoryPayload(pull.repository),
    sender: { login: review.login },
  });
}

/** GitHub's own error body: `{ message, documentation_url }`. */
const githubErrors: ErrorRequestHandler = (err: unknown, _req, res, next) => {
  if (res.headersSent) {
    next(err);
    return;
  }
  const status = err instanceof HttpError ? err.status : typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
  res.status(status).json({ message: err instanceof Error ? err.message : 'Server Error', documentation_url: 'https://docs.github.com/rest' });
};

function requireToken(ctx: EmulatorContext): RequestHandler {
  return (req, _res, next) => {
    const expected = ctx.settings.githubToken;
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!expected || !match || !sameSecret(match[1], expected)) {
      next(new HttpError(401, 'unauthorized', 'Bad credentials'));
      return;
    }
    next();
  };
}

/** The REST API the worker reads, mounted at `/github` (what TOLLGATE_GITHUB_API_URL points at in sandbox mode). */
export function githubApiRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  router.use(requireToken(ctx));

  router.get('/repos/:owner/:repo/pulls/:number', (req, res) => {
    res.json(pullJson(findPull(github(ctx), repositoryOf(req), req.params.number)));
  });

  router.get('/repos/:owner/:repo/pulls/:number/reviews', (req, res) => {
    const state = github(ctx);
    const pull = findPull(state, repositoryOf(req), req.params.number);
    const reviews = state.reviews.get(pullKey(pull.repository, pull.number)) ?? [];
    const perPage = Math.min(100, Math.max(1, Number(req.query.per_page ?? 30) || 30));
    const page = Math.max(1, Number(req.query.page ?? 1) || 1);
    const pages = Math.max(1, Math.ceil(reviews.length / perPage));
    if (page < pages) {
      // Pagination as GitHub does it: the Link header names the next and the last page.
      const base = `${req.protocol}://${req.get('host')}${req.baseUrl}${req.path}?per_page=${perPage}`;
      res.set('Link', `<${base}&page=${page + 1}>; rel="next", <${base}&page=${pages}>; rel="last"`);
    }
    res.json(reviews.slice((page - 1) * perPage, page * perPage).map(reviewJson));
  });

  router.get('/repos/:owner/:repo/contents/*path', (req, res) => {
    const state = github(ctx);
    const repository = repositoryOf(req);
    const segments = (req.params as unknown as { path: string[] }).path;
    const path = segments.join('/');
    const ref = typeof req.query.ref === 'string' ? req.query.ref : undefined;
    const commit = ref ? state.commits.get(ref) : undefined;
    // A ref names a commit of this repository (the emulator has no branches to resolve).
    const content = commit?.repository === repository ? commit.files.get(path) : undefined;
    if (content === undefined) throw new HttpError(404, 'not_found', 'Not Found');
    const bytes = Buffer.from(content, 'utf8');
    res.json({
      type: 'file',
      encoding: 'base64',
      size: bytes.length,
      name: segments[segments.length - 1],
      path,
      sha: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex'),
      // GitHub wraps the base64 at 60 characters.
      content: bytes.toString('base64').replace(/(.{60})/g, '$1\n'),
    });
  });

  router.use(githubErrors);
  return router;
}

const HookSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  secret: z.string().min(1),
  events: z.array(z.string().min(1)).default(['pull_request', 'pull_request_review']),
});
const OpenPullSchema = z.object({
  author: z.string().regex(LOGIN),
  title: z.string().default('Change Genesys Cloud configuration'),
  head: z.string().min(1).default('change'),
  base: z.string().min(1).default('main'),
  files: z.record(z.string().min(1), z.string()),
});
const PushSchema = z.object({ files: z.record(z.string().min(1), z.string().nullable()), pusher: z.string().regex(LOGIN).optional() });
const ReviewSchema = z.object({
  user: z.string().regex(LOGIN),
  state: z.enum(['APPROVED', 'CHANGES_REQUESTED', 'COMMENTED']),
  commitId: z.string().regex(/^[0-9a-f]{40}$/).optional(),
  body: z.string().default(''),
});
const CloseSchema = z.object({ merged: z.boolean().default(false), by: z.string().regex(LOGIN).optional() });

/** The admin routes, mounted at `/__emulator/github`: what a person does on GitHub, each sending its webhook. */
export function githubAdminRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  router.use(express.json({ limit: '5mb' }));
  const now = () => new Date().toISOString();

  router.post('/hooks', (req, res) => {
    const body = parseWith(HookSchema, req.body);
    const state = github(ctx);
    const hook: Hook = { id: state.nextId++, ...body };
    state.hooks.push(hook);
    res.status(201).json({ id: hook.id, url: hook.url, events: hook.events });
  });

  router.delete('/hooks', (_req, res) => {
    github(ctx).hooks.length = 0;
    res.status(204).end();
  });

  router.get('/state', (_req, res) => {
    const state = github(ctx);
    res.json({
      hooks: state.hooks.map(({ id, url, events }) => ({ id, url, events })),
      pulls: [...state.pulls.values()].map((pull) => ({ ...pullJson(pull), repository: pull.repository, reviews: (state.reviews.get(pullKey(pull.repository, pull.number)) ?? []).map(reviewJson) })),
    });
  });

  router.post('/repos/:owner/:repo/pulls', (req, res) => {
    const body = parseWith(OpenPullSchema, req.body);
    const state = github(ctx);
    const repository = repositoryOf(req);
    const number = (state.nextNumber.get(repository) ?? 0) + 1;
    state.nextNumber.set(repository, number);
    const base: Commit = { sha: newSha(), repository, files: new Map(), createdAt: now() };
    const head: Commit = { sha: newSha(), repository, files: new Map(Object.entries(body.files)), createdAt: now() };
    state.commits.set(base.sha, base);
    state.commits.set(head.sha, head);
    const pull: PullRequest = {
      repository,
      number,
      title: body.title,
      author: body.author.toLowerCase(),
      state: 'open',
      merged: false,
      headRef: body.head,
      baseRef: body.base,
      baseSha: base.sha,
      headSha: head.sha,
      createdAt: now(),
      updatedAt: now(),
    };
    state.pulls.set(pullKey(repository, number), pull);
    state.reviews.set(pullKey(repository, number), []);
    const deliveries = pullRequestEvent(ctx, pull, 'opened', pull.author);
    res.status(201).json({ number, headSha: head.sha, baseSha: base.sha, deliveries });
  });

  router.post('/repos/:owner/:repo/pulls/:number/commits', (req, res) => {
    const body = parseWith(PushSchema, req.body);
    const state = github(ctx);
    const pull = findPull(state, repositoryOf(req), req.params.number);
    const files = new Map(state.commits.get(pull.headSha)?.files);
    for (const [path, content] of Object.entries(body.files)) {
      if (content === null) files.delete(path);
      else files.set(path, content);
    }
    const commit: Commit = { sha: newSha(), repository: pull.repository, files, createdAt: now() };
    state.commits.set(commit.sha, commit);
    const before = pull.headSha;
    pull.headSha = commit.sha;
    pull.updatedAt = now();
    const deliveries = pullRequestEvent(ctx, pull, 'synchronize', body.pusher?.toLowerCase() ?? pull.author);
    res.status(201).json({ headSha: commit.sha, before, deliveries });
  });

  router.post('/repos/:owner/:repo/pulls/:number/reviews', (req, res) => {
    const body = parseWith(ReviewSchema, req.body);
    const state = github(ctx);
    const pull = findPull(state, repositoryOf(req), req.params.number);
    const commitId = body.commitId ?? pull.headSha;
    if (state.commits.get(commitId)?.repository !== pull.repository) throw new HttpError(422, 'unprocessable', 'commit_id is not a commit of this pull request');
    const review: Review = { id: state.nextId++, login: body.user.toLowerCase(), state: body.state, commitId, body: body.body, submittedAt: now() };
    state.reviews.get(pullKey(pull.repository, pull.number))!.push(review);
    const deliveries = reviewEvent(ctx, pull, review, 'submitted');
    res.status(201).json({ ...reviewJson(review), deliveries });
  });

  router.post('/repos/:owner/:repo/pulls/:number/reviews/:reviewId/dismiss', (req, res) => {
    const state = github(ctx);
    const pull = findPull(state, repositoryOf(req), req.params.number);
    const review = state.reviews.get(pullKey(pull.repository, pull.number))!.find((candidate) => candidate.id === Number(req.params.reviewId));
    if (!review) throw new HttpError(404, 'not_found', 'Not Found');
    review.state = 'DISMISSED';
    const deliveries = reviewEvent(ctx, pull, review, 'dismissed');
    res.json({ ...reviewJson(review), deliveries });
  });

  router.post('/repos/:owner/:repo/pulls/:number/close', (req, res) => {
    const body = parseWith(CloseSchema, req.body ?? {});
    const state = github(ctx);
    const pull = findPull(state, repositoryOf(req), req.params.number);
    pull.state = 'closed';
    pull.merged = body.merged;
    pull.updatedAt = now();
    const deliveries = pullRequestEvent(ctx, pull, 'closed', body.by?.toLowerCase() ?? pull.author);
    res.json({ ...pullJson(pull), deliveries });
  });

  return router;
}
