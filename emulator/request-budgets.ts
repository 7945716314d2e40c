/**
 * Genesys Cloud's rate limits, enforced and counted, and the request log that shows them (`GET /__emulator/requests`).
 *
 * Every API request with a Bearer token is counted against sliding windows (`windowSeconds`, 60 on the platform):
 * one per access token (`perTokenPerMinute`, about 300 on the platform), optionally one per OAuth client across all
 * its tokens (`perClientPerMinute`), and one per configured resource (`resources`: method + path prefix, lower limits
 * on some endpoints). A request that would exceed one is answered with the platform's normalised 429 —
 * `Retry-After: <seconds>` and `{ code: "too.many.requests.retry.after", … }` — and is not counted as admitted.
 * The token endpoints are not limited. Each window's peak (the most requests admitted within any window) is kept,
 * so a test can prove that a budget was never exceeded.
 */
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { errorBody } from './errors';
import { matchesRequest, RequestMatchFields } from './request-match';

export const RateLimitSettingsSchema = z.object({
  /** Requests per window per access token; null: unlimited. */
  perTokenPerMinute: z.number().int().positive().nullable(),
  /** Requests per window per OAuth client, across its tokens; null: unlimited. */
  perClientPerMinute: z.number().int().positive().nullable(),
  windowSeconds: z.number().positive(),
  /** Lower budgets on some resources, per token or per client. */
  resources: z.array(
    z.object({
      ...RequestMatchFields,
      perMinute: z.number().int().positive(),
      per: z.enum(['token', 'client']).default('client'),
    }),
  ),
});
export type RateLimitSettings = z.infer<typeof RateLimitSettingsSchema>;

export const DEFAULT_RATE_LIMITS: RateLimitSettings = { perTokenPerMinute: 300, perClientPerMinute: null, windowSeconds: 60, resources: [] };

export interface LoggedRequest {
  at: string;
  method: string;
  path: string;
  /** HTTP status, or `dropped` when the connection was closed without an answer. */
  status: number | 'dropped';
  clientId?: string;
  /** A short fingerprint of the access token (never the token). */
  token?: string;
}

interface Counter {
  key: string;
  kind: 'token' | 'client' | 'resource';
  clientId: string;
  token?: string;
  resource?: string;
  admitted: number;
  rejected: number;
  /** Most requests admitted within any one window. */
  peak: number;
  window: number[];
}

const LOG_LIMIT = 50_000;

export class RequestBudgetState {
  readonly log: LoggedRequest[] = [];
  readonly counters = new Map<string, Counter>();
  tooManyRequests = 0;
}

export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

/** Records every request (but the admin API's) once it is answered or dropped. */
export function logRequests(ctx: EmulatorContext): RequestHandler {
  return (req, res, next) => {
    if (req.path === '/__emulator' || req.path.startsWith('/__emulator/')) return next();
    const at = new Date().toISOString();
    // Read now: a router mounted under a prefix (`/github`, `/jira`) strips it from req.path while it handles the request.
    const path = req.path;
    const record = (status: LoggedRequest['status']) => {
      const log = ctx.state.requestBudgets.log;
      log.push({
        at,
        method: req.method,
        path,
        status,
        ...(res.locals.clientId !== undefined ? { clientId: String(res.locals.clientId) } : {}),
        ...(res.locals.tokenId !== undefined ? { token: String(res.locals.tokenId) } : {}),
      });
      if (log.length > LOG_LIMIT) log.splice(0, log.length - LOG_LIMIT);
    };
    res.once('finish', () => record(res.statusCode));
    res.once('close', () => {
      if (!res.writableFinished) record('dropped');
    });
    next();
  };
}

/** After the Bearer check: admits the request within every budget that applies, or answers the normalised 429. */
export function enforceBudgets(ctx: EmulatorContext): RequestHandler {
  return (req, res, next) => {
    const limits = ctx.settings.rateLimits;
    const windowMs = limits.windowSeconds * 1000;
    const clientId = String(res.locals.clientId);
    const token = String(res.locals.tokenId);
    const now = Date.now();
    const applying: { counter: Counter; limit: number | null }[] = [
      { counter: counter(ctx, `token:${token}`, { kind: 'token', clientId, token }), limit: limits.perTokenPerMinute },
      { counter: counter(ctx, `client:${clientId}`, { kind: 'client', clientId }), limit: limits.perClientPerMinute },
    ];
    for (const resource of limits.resources) {
      if (!matchesRequest(resource, req.method, `${req.baseUrl}${req.path}`)) continue;
      const name = `${resource.method ?? '*'} ${resource.pathPrefix}`;
      const owner = resource.per === 'token' ? token : clientId;
      applying.push({
        counter: counter(ctx, `resource:${name}:${owner}`, { kind: 'resource', clientId, resource: name, ...(resource.per === 'token' ? { token } : {}) }),
        limit: resource.perMinute,
      });
    }
    let retryAfterMs = 0;
    for (const { counter: entry, limit } of applying) {
      while (entry.window.length > 0 && entry.window[0] <= now - windowMs) entry.window.shift();
      if (limit !== null && entry.window.length >= limit) retryAfterMs = Math.max(retryAfterMs, entry.window[entry.window.length - limit] + windowMs - now);
    }
    if (retryAfterMs > 0) {
      const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
      for (const { counter: entry, limit } of applying) if (limit !== null && entry.window.length >= limit) entry.rejected += 1;
      ctx.state.requestBudgets.tooManyRequests += 1;
      res.set('Retry-After', String(seconds));
      res.status(429).json(errorBody(429, 'too.many.requests.retry.after', `Rate limit exceeded the maximum. Retry the request in [${seconds}] seconds`));
      return;
    }
    for (const { counter: entry } of applying) {
      entry.window.push(now);
      entry.admitted += 1;
      entry.peak = Math.max(entry.peak, entry.window.length);
    }
    next();
  };
}

function counter(ctx: EmulatorContext, key: string, identity: Pick<Counter, 'kind' | 'clientId' | 'token' | 'resource'>): Counter {
  const counters = ctx.state.requestBudgets.counters;
  let entry = counters.get(key);
  if (!entry) {
    entry = { key, ...identity, admitted: 0, rejected: 0, peak: 0, window: [] };
    counters.set(key, entry);
  }
  return entry;
}

/** `GET /__emulator/requests`: the log (optionally since a time) and every budget's counters. */
export function describeRequests(ctx: EmulatorContext, since?: number): Record<string, unknown> {
  const state = ctx.state.requestBudgets;
  const describe = (kind: Counter['kind']) =>
    [...state.counters.values()]
      .filter((entry) => entry.kind === kind)
      .map(({ window: _window, key: _key, kind: _kind, ...rest }) => rest);
  return {
    requests: since === undefined ? state.log : state.log.filter((entry) => Date.parse(entry.at) >= since),
    limits: ctx.settings.rateLimits,
    tooManyRequests: state.tooManyRequests,
    tokens: describe('token'),
    clients: describe('client'),
    resources: describe('resource'),
  };
}
