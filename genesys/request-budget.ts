/**
 * One Genesys Cloud request budget for every worker process (issue 11; SPEC: "the limit is held across all workers"):
 * every request to the Platform API except the token request takes a permit first — deploys, the Audit API poll,
 * notification channel upkeep and reconciliation alike — from budgets kept in PostgreSQL: the OAuth client's
 * (GENESYS_REQUESTS_PER_MINUTE, 300 by default, Genesys Cloud's per-token limit) and, for the resources configured
 * with lower limits (GENESYS_RESOURCE_BUDGETS), theirs too, taken together or not at all.
 *
 * Why a shared bucket rather than Temporal's task-queue rate limit: that limit counts activities, and an activity
 * may make several requests (a 429 re-sent, a poll following pages, a settling read); the budget here counts requests
 * where they are made, and reconciliation's calls are covered without moving them onto another queue.
 *
 * The algorithm is GCRA (tollgate.take_genesys_permit, migrations/1764475100000_genesys-request-budget.sql), with
 * parameters chosen so that no window of a minute (plus GENESYS_BUDGET_MARGIN, for requests that reach Genesys Cloud
 * later than they left) ever holds more than the limit: emission interval T = window / (limit − burst) and burst
 * tolerance burst × T, so n requests in any window satisfy n ≤ limit. An idle budget grants a permit in one round trip
 * (bench/genesys-budget.ts measures it). Within a process, permits for the same budgets are taken one at a time, in
 * arrival order, so a busy process asks PostgreSQL once per permit and not once per waiting request.
 */
import type { Pool } from 'pg';
import { GenesysError } from './errors';

export interface RequestBudgetOptions {
  /** Identifies the budgets: the org (API base) and the OAuth client. */
  scope: string;
  /** The client's requests per window (a minute). */
  perMinute: number;
  /** Lower limits for requests with this method (any when undefined) whose path starts with the prefix. */
  resources: { method?: string; pathPrefix: string; perMinute: number }[];
  /** Added to the one-minute window. */
  marginMs: number;
  windowMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** The budget could not be asked (PostgreSQL unreachable): the request was not sent, so it may be retried. */
export class GenesysBudgetUnavailableError extends GenesysError {
  constructor(message: string, cause: unknown) {
    super(message, { retryable: true, cause });
    this.name = 'GenesysBudgetUnavailableError';
  }
}

interface Budget {
  key: string;
  intervalMs: number;
  toleranceMs: number;
}

/** GCRA parameters for `limit` requests in any window of `windowMs`, allowing a burst of about a twentieth of it. */
export function gcraParameters(limit: number, windowMs: number): { intervalMs: number; toleranceMs: number; burst: number } {
  const burst = Math.min(Math.floor(limit / 20), 30);
  const intervalMs = windowMs / (limit - burst);
  return { intervalMs, toleranceMs: burst * intervalMs, burst };
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RequestBudget {
  private readonly client: Budget;
  private readonly resources: (Budget & { method?: string; pathPrefix: string })[];
  private readonly queues = new Map<string, Promise<void>>();
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly pool: Pool,
    options: RequestBudgetOptions,
  ) {
    const windowMs = (options.windowMs ?? 60_000) + options.marginMs;
    const budget = (key: string, perMinute: number): Budget => {
      const { intervalMs, toleranceMs } = gcraParameters(perMinute, windowMs);
      return { key, intervalMs, toleranceMs };
    };
    this.client = budget(`client:${options.scope}`, options.perMinute);
    this.resources = options.resources.map((resource) => ({
      ...budget(`resource:${options.scope}|${resource.method ?? '*'} ${resource.pathPrefix}`, resource.perMinute),
      method: resource.method,
      pathPrefix: resource.pathPrefix,
    }));
    this.sleep = options.sleep ?? realSleep;
  }

  /** Waits for a permit for one request (`path` without its query). */
  take(method: string, path: string): Promise<void> {
    const budgets = [this.client, ...this.resources.filter((resource) => (resource.method === undefined || resource.method === method) && path.startsWith(resource.pathPrefix))].sort(
      (a, b) => (a.key < b.key ? -1 : 1),
    );
    const queueKey = budgets.map((budget) => budget.key).join('\n');
    const turn = (this.queues.get(queueKey) ?? Promise.resolve()).then(() => this.acquire(budgets));
    const settled = turn.catch(() => undefined);
    this.queues.set(queueKey, settled);
    void settled.then(() => {
      if (this.queues.get(queueKey) === settled) this.queues.delete(queueKey);
    });
    return turn;
  }

  private async acquire(budgets: Budget[]): Promise<void> {
    for (;;) {
      let waitMs: number;
      try {
        const { rows } = await this.pool.query<{ wait: number }>('SELECT tollgate.take_genesys_permit($1::text[], $2::float8[], $3::float8[]) AS wait', [
          budgets.map((budget) => budget.key),
          budgets.map((budget) => budget.intervalMs),
          budgets.map((budget) => budget.toleranceMs),
        ]);
        waitMs = Number(rows[0]?.wait ?? 0);
      } catch (error) {
        throw new GenesysBudgetUnavailableError(`the shared Genesys request budget could not be asked: ${(error as Error).message}`, error);
      }
      if (waitMs <= 0) return;
      await this.sleep(Math.ceil(waitMs));
    }
  }
}
