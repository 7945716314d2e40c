/**
 * Prometheus metrics of one receivers app. Each app gets its own Registry (not prom-client's global one), so a
 * test can build many apps in one process and each `/metrics` shows only its own counts.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ReceiverMetrics {
  registry: Registry;
  /** Every webhook request that reached a verified route, before verification. */
  received: Counter<'route'>;
  /** Refused before the route handler ran, by reason (`invalid_signature`, `payload_too_large`, `overloaded`, …). */
  rejected: Counter<'route' | 'reason'>;
  /** Verified requests by the index of the secret that matched: when index 0 (the old secret) drops to zero, retire it. */
  signatureSecret: Counter<'route' | 'secret_index'>;
  /** Answers of acknowledge(), by HTTP status. */
  acked: Counter<'route' | 'status'>;
  /** Time from the start of the durable Temporal call to the answer. */
  ackSeconds: Histogram<'route'>;
  /** Webhook requests being handled now (the flood guard's count). */
  inFlight: Gauge;
}

export function createReceiverMetrics(options: { defaultMetrics?: boolean } = {}): ReceiverMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    received: new Counter({ name: 'webhook_received_total', help: 'Webhook requests received', labelNames: ['route'], registers: [registry] }),
    rejected: new Counter({
      name: 'webhook_rejected_total',
      help: 'Webhook requests refused before reaching the route handler, by reason',
      labelNames: ['route', 'reason'],
      registers: [registry],
    }),
    signatureSecret: new Counter({
      name: 'webhook_signature_secret_total',
      help: 'Verified webhooks by the index of the active secret that matched',
      labelNames: ['route', 'secret_index'],
      registers: [registry],
    }),
    acked: new Counter({ name: 'webhook_acked_total', help: 'Webhook answers by status', labelNames: ['route', 'status'], registers: [registry] }),
    ackSeconds: new Histogram({
      name: 'webhook_ack_seconds',
      help: 'Seconds from the durable Temporal call to the webhook answer',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 3, 5],
      registers: [registry],
    }),
    inFlight: new Gauge({ name: 'receiver_in_flight', help: 'Webhook requests being handled now', registers: [registry] }),
  };
}
