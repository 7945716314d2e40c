/**
 * What an endpoint is to the delivery loop (activities/outbound-events.ts): something that wants some events and
 * delivers one at a time, in ledger order. A delivery either succeeds (the cursor moves past the event), fails in a
 * way a later attempt can fix (the loop retries it, honouring `Retry-After`, backing off otherwise; the cursor does
 * not move), or is refused for good (recorded in `tollgate.event_refusals` and passed over, so one event that can
 * never be delivered does not hold back every later one).
 */
import type { ChangeEvent } from './change-events';

export interface DeliveryContext {
  /** The event was being delivered by an earlier attempt that did not confirm it: its side effects may exist. */
  retrying: boolean;
  /** The deployment whose cursor this is (its task queue). */
  taskQueue: string;
  /** Aborted when the activity is cancelled (worker shutdown): requests in flight stop. */
  signal?: AbortSignal;
}

export interface EventSink {
  readonly name: string;
  /** Where a new cursor starts: the ledger's head (`now`) or its first row (`start`). */
  readonly from: 'now' | 'start';
  wants(event: ChangeEvent): boolean;
  deliver(event: ChangeEvent, context: DeliveryContext): Promise<void>;
}

export class DeliveryFailure extends Error {
  constructor(
    message: string,
    readonly options: { retryAfterMs?: number; refused?: boolean } = {},
  ) {
    super(message);
    this.name = 'DeliveryFailure';
  }
}

/** Longest `Retry-After` honoured; a longer one is capped (an endpoint asking for a day is asked again sooner). */
const MAX_RETRY_AFTER_MS = 3_600_000;

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS);
}

/**
 * How long to wait before attempt `attempt + 1`: what the endpoint asked for (Retry-After), else exponential from one
 * second up to `maxMs`, with ±20 % jitter so that endpoints recovering together are not hit in step (the Standard
 * Webhooks specification recommends jitter).
 */
export function retryDelayMs(attempt: number, maxMs: number, retryAfterMs?: number, random = Math.random()): number {
  if (retryAfterMs !== undefined) return Math.max(retryAfterMs, 100);
  const base = Math.min(1000 * 2 ** Math.max(0, attempt - 1), maxMs);
  return Math.max(100, Math.round(base * (0.8 + 0.4 * random)));
}
