/**
 * `POST /webhooks/github`: GitHub's `pull_request_review` and `pull_request` webhooks, for changes linked to a
 * pull request (the change gate's review path).
 *
 * In this order, and nothing else:
 * 1. verifiedWebhook with the GitHub profile: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`
 *    under GITHUB_WEBHOOK_SECRETS, before any parsing (401 otherwise, and nothing happens);
 * 2. JSON.parse + zod: only the repository and the pull request number are read;
 * 3. every running change linked to that pull request is told to re-read it (the pullRequestChanged signal).
 *
 * The webhook's content is never trusted as an approval: the worker reads the reviews from GitHub itself with
 * its own token. So GitHub's lack of a signed timestamp costs nothing — a replayed webhook only causes one more
 * read — and a lost webhook only delays an approval until the change's periodic re-check.
 */
import { Router } from 'express';
import { z } from 'zod';
import { notifyPullRequestChanged } from '../client/change-gate';
import { pullRequestKey } from '../workflows/change-messages';
import { acknowledge } from './ack';
import type { ReceiverDeps } from './deps';
import { headerValue } from './signature';
import { parseVerifiedJson, verifiedWebhook } from './verified-webhook';

export const GITHUB_WEBHOOK_PATH = '/webhooks/github';

/** The events that can change what a linked change's approvals are. */
const RELEVANT_EVENTS = new Set(['pull_request_review', 'pull_request']);

export const GitHubWebhookSchema = z.object({
  action: z.string().max(100).optional(),
  repository: z.object({ full_name: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/) }).optional(),
  pull_request: z.object({ number: z.number().int().positive() }).optional(),
});

export function githubRoute(deps: ReceiverDeps): Router {
  const router = Router();
  const { config, logger, metrics } = deps;

  router.post(
    GITHUB_WEBHOOK_PATH,
    verifiedWebhook({
      name: 'github',
      secrets: config.receivers.github.secrets,
      profile: config.receivers.github.profile,
      bodyLimitBytes: config.receivers.bodyLimitBytes,
      metrics,
      logger,
    }),
    async (req, res) => {
      const event = headerValue(req.headers, 'X-GitHub-Event') ?? '';
      const body = parseVerifiedJson(res, GitHubWebhookSchema, 'a GitHub webhook');
      if (event === 'ping') {
        res.status(200).json({ status: 'pong' });
        return;
      }
      if (!RELEVANT_EVENTS.has(event) || !body.repository || !body.pull_request) {
        res.status(202).json({ status: 'ignored', event });
        return;
      }
      const pullRequest = pullRequestKey({ repository: body.repository.full_name, number: body.pull_request.number });
      const ok = { status: 202, body: { status: 'rechecking', pullRequest, changes: [] as string[] } };
      await acknowledge(
        res,
        deps,
        async () => {
          ok.body.changes = await notifyPullRequestChanged(deps.temporal, deps.taskQueue, pullRequest, `${event}.${body.action ?? ''}`);
          logger.info({ pullRequest, event, action: body.action, changes: ok.body.changes }, 'github webhook');
        },
        ok,
      );
    },
  );
  return router;
}
