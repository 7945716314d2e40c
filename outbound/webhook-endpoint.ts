/**
 * An endpoint that receives the signed change events (TOLLGATE_EVENT_ENDPOINTS): each event is one `POST` of its JSON
 * with the Standard Webhooks headers. A 2xx is delivered; anything else is a failure the loop retries — a 429 or
 * 503 after its `Retry-After`, the rest with backoff — and redirects are not followed (the specification: update the
 * URL instead). Nothing is passed over: an event stays first in line until its endpoint takes it.
 */
import { request } from 'undici';
import type { WebhookEndpointConfig } from '../platform/config';
import { eventPayload, eventWanted, type ChangeEvent } from './change-events';
import { DeliveryFailure, parseRetryAfter, type DeliveryContext, type EventSink } from './event-sink';
import { standardWebhookHeaders } from './standard-webhooks';

export class WebhookEndpoint implements EventSink {
  readonly name: string;
  readonly from: 'now' | 'start';

  constructor(
    private readonly endpoint: WebhookEndpointConfig,
    private readonly options: { timeoutMs: number },
  ) {
    this.name = endpoint.name;
    this.from = endpoint.from;
  }

  wants(event: ChangeEvent): boolean {
    return eventWanted(this.endpoint, event);
  }

  async deliver(event: ChangeEvent, context: DeliveryContext): Promise<void> {
    const payload = eventPayload(event);
    let response;
    try {
      response = await request(this.endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tollgate-events/1',
          ...standardWebhookHeaders(this.endpoint.secrets, event.id, payload),
        },
        body: payload,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        ...(context.signal ? { signal: context.signal } : {}),
      });
    } catch (error) {
      if (context.signal?.aborted) throw error;
      throw new DeliveryFailure(`${this.name}: ${(error as Error).message}`);
    }
    await response.body.dump().catch(() => undefined);
    if (response.statusCode >= 200 && response.statusCode < 300) return;
    throw new DeliveryFailure(`${this.name} answered ${response.statusCode} to ${event.type} ${event.id}`, {
      retryAfterMs: parseRetryAfter(response.headers['retry-after']),
    });
  }
}
