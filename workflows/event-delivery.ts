/**
 * `event-delivery:<taskQueue>:<endpoint>`: one long-lived workflow per outbound endpoint (a signed-webhook endpoint
 * or the Jira adapter), started idempotently by every worker at start-up (client/event-delivery.ts). It only loops:
 * each round is one activity call that delivers what is waiting after the endpoint's cursor, or watches the ledger
 * for up to a minute when nothing is (activities/outbound-events.ts). A failing endpoint is retried by Temporal with
 * the delay the activity asks for (Retry-After, or backoff), indefinitely: an event is never dropped. It continues
 * as new before its history grows long, and ends when its endpoint is no longer configured.
 */
import { continueAsNew, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { OutboundEventActivities } from '../activities/outbound-events';
import { TollgateKind, TollgateState } from '../platform/search-attributes';
import type { EventDeliveryInput, EventDeliveryResult } from './event-delivery-messages';

/** How long an idle round watches the ledger before it returns (one activity call per minute when idle). */
const IDLE_WAIT_MS = 60_000;
/** Rounds per run before continue-as-new (about six history events each). */
const ROUNDS_PER_RUN = 200;

const { deliverChangeEvents } = proxyActivities<OutboundEventActivities>({
  startToCloseTimeout: '10 minutes',
  // Heartbeats every 2 s: a worker that dies mid-delivery is replaced within 20 s, and the event is delivered again.
  heartbeatTimeout: '20 seconds',
  // No maximum: an endpoint that is down is retried until it is back. Each failure sets its own next delay.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

export async function eventDeliveryWorkflow(input: EventDeliveryInput): Promise<EventDeliveryResult> {
  const { taskQueue } = workflowInfo();
  upsertSearchAttributes([
    { key: TollgateKind, value: 'event-delivery' },
    { key: TollgateState, value: 'delivering' },
  ]);
  let delivered = 0;
  let refused = 0;
  setCurrentDetails(`**delivering** to ${input.endpoint}`);
  for (let round = 0; round < ROUNDS_PER_RUN; round++) {
    const result = await deliverChangeEvents({ endpoint: input.endpoint, taskQueue, waitMs: IDLE_WAIT_MS });
    if (!result.configured) {
      upsertSearchAttributes([{ key: TollgateState, value: 'stopped' }]);
      setCurrentDetails(`**stopped**: ${input.endpoint} is no longer configured`);
      return { endpoint: input.endpoint, stopped: 'not_configured' };
    }
    delivered += result.delivered;
    refused += result.refused;
    setCurrentDetails(
      `**delivering** to ${input.endpoint}: at ledger row ${result.cursor}; this run delivered ${delivered}` + (refused > 0 ? `, ${refused} refused for good (see tollgate.event_refusals)` : ''),
    );
    if (workflowInfo().continueAsNewSuggested) break;
  }
  return continueAsNew<typeof eventDeliveryWorkflow>(input);
}
