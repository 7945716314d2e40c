/**
 * Outgoing webhooks of both kinds (config-audit and lifecycle) and the HMAC they are signed with: the queue that
 * sends, times out, retries, holds while paused and records every attempt for `GET /__emulator/state`. Callers
 * only say what one attempt looks like (`render`); when and how often it goes out is decided here, alike for both.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import { Scheduler } from './scheduler';
import type { RetryPolicy } from './settings';

export type DeliveryKind = 'config-audit' | 'lifecycle' | 'github';
export type DeliveryStatus = 'pending' | 'paused' | 'delivered' | 'failed';
/** One entry per attempt: the receiver's status code, or why there was none. */
export type DeliveryResponse = number | 'error' | 'timeout';

export interface DeliveryRecord {
  id: string;
  kind: DeliveryKind;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  responses: DeliveryResponse[];
  /** The body of the latest attempt (a lifecycle retry differs from the first attempt). */
  body: unknown;
  createdAt: string;
  lastAttemptAt?: string;
}

/** What goes on the wire for one attempt: the exact bytes and the headers signed over them. */
export interface RenderedDelivery {
  body: unknown;
  bytes: Buffer;
  headers: Record<string, string>;
}

export interface OutgoingDelivery {
  kind: DeliveryKind;
  url: string;
  retry: RetryPolicy;
  timeoutMs: number;
  /** Wait this long before the first attempt (delayed duplicates, out-of-order delivery). */
  delayMs?: number;
  /** Builds attempt `attempt` (1-based); each attempt is rendered afresh so retries carry fresh timestamps. */
  render(attempt: number): RenderedDelivery;
}

interface Job {
  record: DeliveryRecord;
  outgoing: OutgoingDelivery;
  generation: number;
}

export function hmacSha256Hex(secret: string, bytes: Buffer): string {
  return createHmac('sha256', secret).update(bytes).digest('hex');
}

export function isSuccess(response: DeliveryResponse): boolean {
  return typeof response === 'number' && response >= 200 && response < 300;
}

/**
 * Sends webhooks the way Genesys Cloud does: at least once, over real HTTP, with a per-attempt timeout, retrying
 * every non-2xx answer, network error and timeout with exponential backoff. Retries run on timers, never inside
 * the request that caused the event. While paused, due deliveries are held and go out on resume (the seed's
 * "webhook delivery failure", Edge Case 3 of the change gate).
 */
export class DeliveryQueue {
  private readonly agent = new Agent({ keepAliveTimeout: 1_000 });
  private readonly scheduler = new Scheduler();
  private readonly inFlight = new Set<AbortController>();
  private records: DeliveryRecord[] = [];
  private held: Job[] = [];
  /** Bumped by reset/close so that a response arriving afterwards changes nothing and schedules nothing. */
  private generation = 0;
  private pausedFlag = false;

  constructor(private readonly logger: Logger) {}

  get paused(): boolean {
    return this.pausedFlag;
  }

  list(): DeliveryRecord[] {
    return this.records.map((record) => ({ ...record, responses: [...record.responses] }));
  }

  enqueue(outgoing: OutgoingDelivery): DeliveryRecord {
    const record: DeliveryRecord = {
      id: randomUUID(),
      kind: outgoing.kind,
      url: outgoing.url,
      status: 'pending',
      attempts: 0,
      responses: [],
      body: outgoing.render(1).body,
      createdAt: new Date().toISOString(),
    };
    this.records.push(record);
    const job: Job = { record, outgoing, generation: this.generation };
    const delayMs = outgoing.delayMs ?? 0;
    // Dispatching at once (not on a 0 ms timer) lets a caller that pauses first see `paused` straight away.
    if (delayMs > 0) this.scheduler.after(delayMs, () => this.dispatch(job));
    else this.dispatch(job);
    return record;
  }

  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
    const held = this.held;
    this.held = [];
    for (const job of held) this.dispatch(job);
  }

  /** Forgets every delivery and cancels what is pending or in flight. */
  reset(): void {
    this.generation += 1;
    this.scheduler.cancelAll();
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
    this.held = [];
    this.records = [];
    this.pausedFlag = false;
  }

  async close(): Promise<void> {
    this.reset();
    await this.agent.destroy();
  }

  private dispatch(job: Job): void {
    if (job.generation !== this.generation) return;
    if (this.pausedFlag) {
      job.record.status = 'paused';
      this.held.push(job);
      return;
    }
    void this.attempt(job);
  }

  private async attempt(job: Job): Promise<void> {
    const { record, outgoing } = job;
    record.attempts += 1;
    record.status = 'pending';
    record.lastAttemptAt = new Date().toISOString();
    const rendered = outgoing.render(record.attempts);
    record.body = rendered.body;

    const response = await this.post(outgoing.url, rendered, outgoing.timeoutMs);
    if (job.generation !== this.generation) return;
    record.responses.push(response);
    this.logger.debug({ deliveryId: record.id, kind: record.kind, attempt: record.attempts, response }, 'delivery attempt');

    if (isSuccess(response)) {
      record.status = 'delivered';
      return;
    }
    const retriesSoFar = record.attempts - 1;
    if (retriesSoFar >= outgoing.retry.maxRetries) {
      record.status = 'failed';
      this.logger.info({ deliveryId: record.id, kind: record.kind, responses: record.responses }, 'delivery gave up');
      return;
    }
    const delayMs = outgoing.retry.initialDelayMs * outgoing.retry.backoffMultiplier ** retriesSoFar;
    this.scheduler.after(delayMs, () => this.dispatch(job));
  }

  private async post(url: string, rendered: RenderedDelivery, timeoutMs: number): Promise<DeliveryResponse> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const cancel = new AbortController();
    this.inFlight.add(cancel);
    try {
      const response = await request(url, {
        method: 'POST',
        headers: rendered.headers,
        body: rendered.bytes,
        dispatcher: this.agent,
        signal: AbortSignal.any([timeout, cancel.signal]),
      });
      await response.body.dump().catch(() => undefined);
      return response.statusCode;
    } catch {
      // A receiver that does not answer within timeoutMs is a failed attempt, exactly like a 5xx (lifecycle seed,
      // first trap: a slow receiver gets the event again).
      return timeout.aborted ? 'timeout' : 'error';
    } finally {
      this.inFlight.delete(cancel);
    }
  }
}
