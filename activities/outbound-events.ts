/**
 * The outbound change events' delivery, as an activity run by one long-lived workflow per endpoint
 * (workflows/event-delivery.ts). The audit ledger is the source: every step of every change and every audit verdict
 * is already a row there before any endpoint hears of it, so an endpoint that is down loses nothing — its cursor
 * (outbound/delivery-cursors.ts) stays where it was and delivery catches up, in ledger order, once it is back.
 *
 * One call delivers what is waiting after the endpoint's cursor, one event at a time, moving the cursor only after
 * the endpoint took the event (at least once: an attempt that dies between the endpoint's answer and the cursor's
 * move delivers that event again, with the same `webhook-id`; the Jira adapter checks before repeating a side
 * effect). When nothing is waiting it watches the ledger's head for up to `waitMs` (a cheap read every
 * TOLLGATE_EVENT_POLL), so an event leaves within a poll interval of being written and nothing is added to a
 * change's own path. A failed delivery throws a retryable failure whose next retry comes after the endpoint's
 * `Retry-After`, or after exponential backoff with jitter (up to TOLLGATE_EVENT_RETRY_MAX); Temporal retries it,
 * for as long as it takes.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { JIRA_ENDPOINT } from '../platform/config';
import { tollgatePool } from '../platform/tollgate-database';
import { ChangeEventSource } from '../outbound/event-source';
import { DeliveryCursors, type DeliveryCursor } from '../outbound/delivery-cursors';
import { DeliveryFailure, retryDelayMs, type EventSink } from '../outbound/event-sink';
import { WebhookEndpoint } from '../outbound/webhook-endpoint';
import { JiraTicketAdapter } from '../tickets/jira-adapter';
import { JiraClient } from '../tickets/jira-client';
import { TicketStore } from '../tickets/ticket-store';
import { describeFailure, FailureType } from '../workflows/failures';
import type { DeliveryRound, DeliverEventsInput } from '../workflows/event-delivery-messages';
import { currentActivity } from './activity-context';
import { activityLogger } from './activity-logger';
import type { ActivityDeps } from './deps';

/** How long one call keeps delivering a backlog before it hands back to its workflow (which then calls again). */
const WORK_BUDGET_MS = 60_000;
/** Heartbeats while a call runs: a worker that dies is noticed within the activity's heartbeat timeout. */
const HEARTBEAT_EVERY_MS = 2_000;

export function createOutboundEventActivities(deps: Pick<ActivityDeps, 'config' | 'logger' | 'databaseUrl'>) {
  const { config } = deps;
  let shared: { source: ChangeEventSource; cursors: DeliveryCursors; sinks: Map<string, EventSink> } | undefined;
  const open = () => {
    if (!shared) {
      const pool = tollgatePool(deps.databaseUrl);
      const source = new ChangeEventSource(pool);
      const sinks = new Map<string, EventSink>();
      for (const endpoint of config.events.webhooks) sinks.set(endpoint.name, new WebhookEndpoint(endpoint, { timeoutMs: config.events.timeoutMs }));
      const jira = config.events.jira;
      if (jira) {
        sinks.set(
          JIRA_ENDPOINT,
          new JiraTicketAdapter({
            config: jira,
            client: new JiraClient({ url: jira.url, user: jira.user, apiToken: jira.apiToken, timeoutMs: config.events.timeoutMs }),
            store: new TicketStore(pool),
            ledger: source.ledger,
            logger: deps.logger.child({ component: 'jira' }),
            ...(config.events.pullRequestWebUrl ? { pullRequestWebUrl: config.events.pullRequestWebUrl } : {}),
          }),
        );
      }
      shared = { source, cursors: new DeliveryCursors(pool), sinks };
    }
    return shared;
  };

  return {
    /** Delivers the events waiting for one endpoint, in ledger order; waits up to `waitMs` for new ones when idle. */
    async deliverChangeEvents(input: DeliverEventsInput): Promise<DeliveryRound> {
      const { source, cursors, sinks } = open();
      const sink = sinks.get(input.endpoint);
      if (!sink) return { endpoint: input.endpoint, configured: false, delivered: 0, refused: 0, cursor: 0 };
      const context = currentActivity();
      const signal = context?.cancellationSignal;
      const logger = activityLogger(deps.logger).child({ endpoint: input.endpoint });
      const round: DeliveryRound = { endpoint: input.endpoint, configured: true, delivered: 0, refused: 0, cursor: 0 };
      const cursor: DeliveryCursor = await cursors.open(input.taskQueue, input.endpoint, sink.from);
      const beat = setInterval(() => context?.heartbeat({ cursor: cursor.deliveredSeq }), HEARTBEAT_EVERY_MS);
      const started = Date.now();
      const idleUntil = started + input.waitMs;
      try {
        for (;;) {
          round.cursor = cursor.deliveredSeq;
          const head = await source.head();
          if (head <= cursor.deliveredSeq) {
            // Caught up: hand a round that did something back to the workflow, else watch the head a while.
            if (round.delivered + round.refused > 0 || Date.now() >= idleUntil) return round;
            await pause(context, Math.min(config.events.pollMs, Math.max(1, idleUntil - Date.now())));
            continue;
          }
          const { rows, complete } = await source.page(cursor.deliveredSeq, head);
          let passedOver: number | undefined;
          for (const row of rows) {
            const event = await source.toEvent(row);
            if (!sink.wants(event)) {
              passedOver = row.seq;
              continue;
            }
            if (passedOver !== undefined && !(await cursors.advance(cursor, passedOver, false))) return moved(round, logger);
            passedOver = undefined;
            const retrying = cursor.attemptingSeq === row.seq;
            if (!retrying) await cursors.attempting(cursor, row.seq);
            try {
              await sink.deliver(event, { retrying, taskQueue: input.taskQueue, ...(signal ? { signal } : {}) });
              round.delivered += 1;
            } catch (error) {
              if (error instanceof DeliveryFailure && error.options.refused) {
                logger.error({ seq: row.seq, type: event.type, reason: error.message }, 'event refused for good by the endpoint; recorded and passed over');
                await cursors.refused(cursor, row.seq, event.type, error.message);
                round.refused += 1;
              } else {
                throw await failure(error, cursor, cursors, logger, row.seq, event.type);
              }
            }
            if (!(await cursors.advance(cursor, row.seq, true))) return moved(round, logger);
            round.cursor = cursor.deliveredSeq;
            if (Date.now() - started > WORK_BUDGET_MS) return round;
          }
          // Every outbound row up to the head was seen: the rows between (lifecycle records) are passed over too.
          const through = complete ? head : passedOver;
          if (through !== undefined && !(await cursors.advance(cursor, through, false))) return moved(round, logger);
          round.cursor = cursor.deliveredSeq;
        }
      } finally {
        clearInterval(beat);
      }

      async function failure(error: unknown, at: DeliveryCursor, store: DeliveryCursors, log: typeof logger, seq: number, type: string): Promise<unknown> {
        if (signal?.aborted) return error; // cancelled (worker shutdown): the next attempt resumes here
        const message = error instanceof Error ? error.message : describeFailure(error);
        await store.failed(at, message).catch(() => undefined);
        const attempt = context?.info.attempt ?? 1;
        const delay = retryDelayMs(attempt, config.events.retryMaxMs, error instanceof DeliveryFailure ? error.options.retryAfterMs : undefined);
        log.warn({ seq, type, attempt, retryInMs: delay, reason: message }, 'event delivery failed; retrying');
        return ApplicationFailure.create({ type: FailureType.EventDeliveryFailed, message: `${input.endpoint}: ${message}`, nextRetryDelay: delay });
      }
    },
  };
}

/** Another attempt moved the cursor (this one was given up on by the server and is still running): stop. */
function moved(round: DeliveryRound, logger: { warn(obj: object, msg: string): void }): DeliveryRound {
  logger.warn({ cursor: round.cursor }, 'the cursor was moved by another attempt; this one stops');
  return round;
}

/** Sleeps, ending early (with the activity's cancellation) when the worker shuts down. */
async function pause(context: Context | undefined, ms: number): Promise<void> {
  if (context) await context.sleep(ms);
  else await new Promise((resolve) => setTimeout(resolve, ms));
}

export type OutboundEventActivities = ReturnType<typeof createOutboundEventActivities>;
