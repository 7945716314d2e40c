/**
 * What can go wrong talking to Genesys Cloud, as named error classes, and their translation into Temporal's
 * ApplicationFailure so that each kind is retried (or not) the way it should be.
 *
 * | class                     | when                                   | retryable | Temporal failure type        |
 * |---------------------------|----------------------------------------|-----------|------------------------------|
 * | GenesysAuthError          | token refused; 401 after one refresh   | no        | GenesysAuthError             |
 * | GenesysNotFoundError      | 404                                    | no        | GenesysNotFoundError         |
 * | GenesysConflictError      | 409, or 400 "does not match the current version" | no | GenesysConflictError |
 * | GenesysRateLimitedError   | 429 with a long (or repeated) wait     | yes       | GenesysRateLimitedError      |
 * | GenesysServerError        | 5xx                                    | yes       | GenesysServerError           |
 * | GenesysNetworkError       | connect/reset/timeout                  | yes       | GenesysNetworkError          |
 * | GenesysProtocolError      | a response of the wrong shape          | no        | GenesysProtocolError         |
 * | GenesysError              | any other 4xx                          | no        | GenesysError                 |
 */
import { ApplicationFailure } from '@temporalio/common';

export interface GenesysErrorOptions {
  status?: number;
  retryable: boolean;
  /** True when a write may or may not have been applied (the request left, no answer came back). */
  outcomeUnknown?: boolean;
  method?: string;
  path?: string;
  cause?: unknown;
}

export class GenesysError extends Error {
  /** HTTP status of the answer; undefined when no answer came back. */
  readonly status: number | undefined;
  readonly retryable: boolean;
  /**
   * A write (non-GET) whose outcome nobody knows: it may have been applied. The client never re-sends such a
   * request itself; the caller settles it by reading the object (the seed's "Silent Failures in CI/CD" trap: an
   * unknown outcome is neither a success nor a failure until a read says which).
   */
  readonly outcomeUnknown: boolean;
  readonly method: string | undefined;
  readonly path: string | undefined;

  constructor(message: string, options: GenesysErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GenesysError';
    this.status = options.status;
    this.retryable = options.retryable;
    this.outcomeUnknown = options.outcomeUnknown ?? false;
    this.method = options.method;
    this.path = options.path;
  }
}

type Where = { method?: string; path?: string; status?: number; cause?: unknown };

export class GenesysAuthError extends GenesysError {
  constructor(message: string, where: Where = {}) {
    super(message, { ...where, retryable: false });
    this.name = 'GenesysAuthError';
  }
}

export class GenesysNotFoundError extends GenesysError {
  constructor(message: string, where: Where = {}) {
    super(message, { ...where, status: 404, retryable: false });
    this.name = 'GenesysNotFoundError';
  }
}

export class GenesysConflictError extends GenesysError {
  /** The object's version now, when the 409 body says so (seed Edge Case 1: re-read, re-merge, retry). */
  readonly currentVersion: number | undefined;

  constructor(message: string, currentVersion: number | undefined, where: Where = {}) {
    // 409, or 400 where a service answers a stale version that way.
    super(message, { ...where, status: where.status ?? 409, retryable: false });
    this.name = 'GenesysConflictError';
    this.currentVersion = currentVersion;
  }
}

export class GenesysRateLimitedError extends GenesysError {
  /** How long Genesys Cloud asked us to wait before the next attempt. */
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, where: Where = {}) {
    super(message, { ...where, status: 429, retryable: true });
    this.name = 'GenesysRateLimitedError';
    this.retryAfterMs = retryAfterMs;
  }
}

export class GenesysServerError extends GenesysError {
  constructor(message: string, where: Where & { outcomeUnknown?: boolean } = {}) {
    super(message, { ...where, retryable: true });
    this.name = 'GenesysServerError';
  }
}

export class GenesysNetworkError extends GenesysError {
  constructor(message: string, where: Where & { outcomeUnknown: boolean }) {
    super(message, { ...where, retryable: true });
    this.name = 'GenesysNetworkError';
  }
}

export class GenesysProtocolError extends GenesysError {
  constructor(message: string, where: Where = {}) {
    super(message, { ...where, retryable: false });
    this.name = 'GenesysProtocolError';
  }
}

/**
 * Converts anything a Genesys call threw into the ApplicationFailure an activity should throw:
 * - 429: retryable, with `nextRetryDelay` = the server's Retry-After, so Temporal waits exactly that long;
 * - 5xx and network errors: retryable under the activity's retry policy (a write whose outcome is unknown stays
 *   retryable: the retried activity starts by reading the object, which settles the outcome before any write);
 * - every other Genesys error: non-retryable, typed with the class name (e.g. `GenesysConflictError`), with
 *   `{ status, currentVersion?, outcomeUnknown }` as the failure's first detail;
 * - an ApplicationFailure passes through; any other error becomes a retryable failure typed with its name.
 */
export function toActivityFailure(error: unknown): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof GenesysError) {
    const details: Record<string, unknown> = { status: error.status, outcomeUnknown: error.outcomeUnknown };
    if (error instanceof GenesysConflictError) details.currentVersion = error.currentVersion;
    if (error instanceof GenesysRateLimitedError) details.retryAfterMs = error.retryAfterMs;
    return ApplicationFailure.create({
      message: error.message,
      type: error.name,
      nonRetryable: !error.retryable,
      details: [details],
      nextRetryDelay: error instanceof GenesysRateLimitedError ? error.retryAfterMs : undefined,
      cause: error,
    });
  }
  const cause = error instanceof Error ? error : new Error(String(error));
  return ApplicationFailure.create({ message: cause.message, type: cause.name, nonRetryable: false, cause });
}
