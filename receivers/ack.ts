/**
 * The answer to a webhook: 2xx only once Temporal has durably accepted the event, within the sender's timeout.
 *
 * Seed trap (lifecycle): "Returning a non-2xx HTTP status code or allowing the request thread to block beyond the
 * timeout threshold" (3 s). The durable call (start / signal-with-start) races a deadline
 * (config.receivers.ackTimeoutMs, 2.5 s by default); the same deadline is set on its gRPC calls, so they stop
 * rather than linger. When Temporal cannot be reached or the deadline passes, the answer is 503 with
 * Retry-After: the event is not recorded, and Genesys Cloud must deliver it again. Never a 2xx for an event that
 * is not recorded (SPEC, Receivers). A late success after a 503 is harmless: the redelivery maps to the same
 * workflow ID and is recognised as a duplicate.
 *
 * What `work` must handle itself: WorkflowExecutionAlreadyStartedError (a duplicate delivery of an event whose
 * workflow already exists). The event IS recorded then, so `work` should catch it and resolve normally (the route
 * decides what a duplicate's 2xx body says). acknowledge() maps only unavailability; any other rejection is
 * re-thrown, and the app's error responder answers 500 (still never a 2xx).
 */
import { isGrpcServiceError } from '@temporalio/client';
import type { Response } from 'express';
import type { ReceiverDeps } from './deps';

/** Seconds Genesys Cloud is asked to wait before redelivering after a 503. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** gRPC codes that mean "Temporal did not take it (or we cannot tell)", not "Temporal said no". */
const UNAVAILABLE_CODES = new Set([
  1, // CANCELLED
  2, // UNKNOWN
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  10, // ABORTED
  13, // INTERNAL
  14, // UNAVAILABLE
]);

/** A durable call still pending after this long makes the receiver ask whether Temporal refuses connections. */
export const PROBE_AFTER_MS = 150;

export class TemporalRefusedError extends Error {
  constructor(address: string) {
    super(`Temporal at ${address} refuses connections`);
    this.name = 'TemporalRefusedError';
  }
}

export class AckDeadlineExceededError extends Error {
  constructor(ms: number) {
    super(`Temporal did not accept the event within ${ms} ms`);
    this.name = 'AckDeadlineExceededError';
  }
}

/** True for errors that mean Temporal could not be reached or did not answer in time. */
export function isTemporalUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof AckDeadlineExceededError || current instanceof TemporalRefusedError) return true;
    if (isGrpcServiceError(current)) return UNAVAILABLE_CODES.has(current.code);
    const name = (current as { name?: unknown }).name;
    if (name === 'TransportError' || name === 'AbortError' || name === 'TimeoutError') return true;
    if (name === 'ServiceError' && !(current as { cause?: unknown }).cause) return true;
  }
  return false;
}

/**
 * The Temporal calls the receivers have in flight. A call answered 503 at the ack deadline can still be retrying
 * inside the SDK; closing the connection under it makes the SDK's retry timer throw. close() waits for these first.
 */
export class TemporalCalls {
  private readonly pending = new Set<Promise<unknown>>();

  track<T>(call: Promise<T>): Promise<T> {
    const settled = call.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
    return call;
  }

  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

export interface AcknowledgeOptions {
  /** Retry-After of a 503, in seconds (default 5). */
  retryAfterSeconds?: number;
}

/**
 * Runs `work` (the durable Temporal call) under the ack deadline and answers:
 * - `ok.status` / `ok.body` when it resolved in time;
 * - 503 `{ status: 'unavailable' }` with Retry-After when Temporal is unreachable or the deadline passed;
 * - otherwise rethrows (→ 500 through the app's error responder).
 */
export async function acknowledge(
  res: Response,
  deps: Pick<ReceiverDeps, 'config' | 'metrics' | 'logger'> & Partial<Pick<ReceiverDeps, 'temporal' | 'calls' | 'reachability'>>,
  work: () => Promise<unknown>,
  ok: { status: number; body: object },
  options: AcknowledgeOptions = {},
): Promise<void> {
  const route = typeof res.locals.webhookRoute === 'string' ? res.locals.webhookRoute : 'unknown';
  const timeoutMs = deps.config.receivers.ackTimeoutMs;
  const deadline = Date.now() + timeoutMs;
  const stopTimer = deps.metrics.ackSeconds.startTimer({ route });

  const answer = (status: number, body: object, headers: Record<string, string> = {}) => {
    stopTimer();
    deps.metrics.acked.inc({ route, status: String(status) });
    res.status(status).set(headers).json(body);
  };

  let timer: NodeJS.Timeout | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  const deadlinePassed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AckDeadlineExceededError(timeoutMs)), timeoutMs);
    // Slow: is anybody there? A refused port cannot start answering within the deadline; a slow server can.
    const reachability = deps.reachability;
    if (reachability) {
      probeTimer = setTimeout(() => {
        void reachability.probe().then((answer) => {
          if (answer === 'refused') reject(new TemporalRefusedError(reachability.address));
        });
      }, Math.min(PROBE_AFTER_MS, timeoutMs));
    }
  });
  const call = deps.temporal ? deps.temporal.connection.withDeadline(deadline, work) : work();
  const durable = deps.calls ? deps.calls.track(call) : call;
  // The loser of the race must not become an unhandled rejection.
  durable.catch(() => undefined);
  deadlinePassed.catch(() => undefined);

  try {
    await Promise.race([durable, deadlinePassed]);
  } catch (error) {
    if (isTemporalUnavailable(error)) {
      deps.logger.warn({ route, reason: error instanceof Error ? error.message : String(error) }, 'event not recorded: Temporal unavailable; answering 503');
      answer(503, { status: 'unavailable' }, { 'Retry-After': String(options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS) });
      return;
    }
    stopTimer();
    deps.metrics.acked.inc({ route, status: '500' });
    throw error;
  } finally {
    clearTimeout(timer);
    clearTimeout(probeTimer);
  }
  answer(ok.status, ok.body);
}
