/**
 * The event delivery workflow's contract (`event-delivery:<taskQueue>:<endpoint>`, workflows/event-delivery.ts): its
 * input, and what one round of its activity (activities/outbound-events.ts) reports.
 */

export interface EventDeliveryInput {
  /** The endpoint's name: a TOLLGATE_EVENT_ENDPOINTS entry, or `jira`. */
  endpoint: string;
}

export interface DeliverEventsInput {
  endpoint: string;
  /** The deployment whose cursor it is. */
  taskQueue: string;
  /** How long to watch the ledger for new events when none are waiting. */
  waitMs: number;
}

export interface DeliveryRound {
  endpoint: string;
  /** False when the endpoint is no longer configured: the workflow ends. */
  configured: boolean;
  delivered: number;
  /** Events the endpoint refused for good (recorded in tollgate.event_refusals and passed over). */
  refused: number;
  /** The last ledger row the endpoint is past. */
  cursor: number;
}

export interface EventDeliveryResult {
  endpoint: string;
  stopped: 'not_configured';
}
