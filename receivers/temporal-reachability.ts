/**
 * Is Temporal's port refusing connections right now? The receivers ask only when a durable call is slow: a healthy
 * call answers in milliseconds and never pays for a probe. A refused (or unroutable, or unresolvable) address means
 * waiting out the ack deadline cannot help, so the sender gets 503 + Retry-After at once and keeps most of its 3 s
 * timeout; a server that accepts but answers slowly keeps the whole deadline.
 */
import { probeTcp, type Reachability } from '../platform/tcp-probe';
/** One probe answers every caller within this window (a flood of slow calls probes once). */
const CACHE_MS = 250;
const PROBE_TIMEOUT_MS = 500;

export class TemporalReachability {
  private last?: { at: number; answer: Promise<Reachability> };

  constructor(
    readonly address: string,
    private readonly now: () => number = Date.now,
  ) {}

  probe(): Promise<Reachability> {
    if (this.last && this.now() - this.last.at < CACHE_MS) return this.last.answer;
    const answer = probeTcp(this.address, PROBE_TIMEOUT_MS);
    this.last = { at: this.now(), answer };
    return answer;
  }
}
