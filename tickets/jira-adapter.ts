/**
 * The Jira Service Management adapter: an endpoint of the outbound change events (outbound/event-sink.ts) that keeps
 * one Jira issue per change, from request to audit.
 *
 *   change planned      → the issue is opened: summary, target, requester, pull request, the plan as its description
 *   each approval, each refusal, rejection, withdrawal, expiry, cancellation, deploy, write, verification, rollback,
 *   divergence, failure → a comment (naming the proven principal where there is one)
 *   the audit of the deployed version → a comment with the audit's details, and the transition to done (the change
 *   seed's "closure"); rejection, expiry, failure … → the transition named for that moment (TOLLGATE_JIRA_TRANSITIONS)
 *
 * Deliveries are at least once, so every step is safe to repeat:
 *   - opening: a claim row is written before the create and the key after it (tickets/ticket-store.ts); a claim
 *     without a key means an earlier create may have landed (the worker died, the answer was lost), so the adapter
 *     searches Jira for the change's label (`tollgate-change-<id>`) first, and creates again only once Jira's search
 *     index has had TOLLGATE_JIRA_SEARCH_SETTLE to show it. The key is recorded in the ledger (`change.ticket`) and
 *     shown by `tollgate change status`.
 *   - a comment carries a property naming its event; a retried delivery looks for it before posting.
 *   - a transition that is no longer available because the issue is already closed is not an error.
 *
 * A change whose ticket does not exist yet when one of its steps arrives (Jira was configured while it was in
 * flight) gets it then, from the ledger's records. A change that never got a plan (its submission was refused, its
 * target does not exist) gets no ticket: the ledger and the webhooks still carry it.
 */
import type { Logger } from '../platform/logger';
import type { JiraConfig } from '../platform/config';
import { JIRA_ENDPOINT } from '../platform/config';
import type { AuditLedger } from '../ledger/audit-ledger';
import { eventWanted, type ChangeEvent } from '../outbound/change-events';
import { DeliveryFailure, type DeliveryContext, type EventSink } from '../outbound/event-sink';
import type { LedgerData } from '../workflows/ledger-records';
import { changeWorkflowId } from '../workflows/workflow-ids';
import { changeLabel, issueDescription, issueLabels, issueSummary, ticketComment, ticketMoment, type ChangeFacts } from './change-ticket-content';
import type { AdfDoc } from './adf';
import { JiraError, type JiraClient } from './jira-client';
import type { TicketStore } from './ticket-store';

/** The comment property that names the Tollgate event a comment was posted for. */
export const COMMENT_EVENT_PROPERTY = 'tollgate.event';
/** How long a `change.audited` step waits for its audit's verdict row (see `auditOf`). */
const AUDIT_VERDICT_WAIT_MS = 10_000;
/** Changes whose facts (submitted, planned) are remembered: they never change once planned. */
const REMEMBERED_CHANGES = 2_000;

export interface JiraAdapterDeps {
  config: JiraConfig;
  client: JiraClient;
  store: TicketStore;
  ledger: AuditLedger;
  logger: Logger;
  pullRequestWebUrl?: string;
}

export class JiraTicketAdapter implements EventSink {
  readonly name = JIRA_ENDPOINT;
  readonly from = 'now' as const;
  private readonly facts = new Map<string, ChangeFacts>();

  constructor(private readonly deps: JiraAdapterDeps) {}

  /** Change steps about a target the configuration covers; not `change.submitted` (the ticket opens with the plan)
   * nor `change.ticket` (its own). */
  wants(event: ChangeEvent): boolean {
    if (!event.type.startsWith('change.') || event.type === 'change.submitted' || event.type === 'change.ticket') return false;
    if (event.data.changeId === undefined) return false;
    return eventWanted({ targets: this.deps.config.targets }, event);
  }

  async deliver(event: ChangeEvent, context: DeliveryContext): Promise<void> {
    const changeId = event.data.changeId!;
    const facts = await this.factsOf(changeId);
    if (!facts.planned) {
      this.deps.logger.debug({ changeId, type: event.type }, 'no ticket for a change without a plan');
      return;
    }
    const key = await this.jira(`opening the ticket of ${changeId}`, true, () => this.ensureTicket(facts, context));
    if (event.type === 'change.planned') return; // the description is the plan
    const comment = ticketComment(event, event.type === 'change.audited' ? { audit: await this.auditOf(event, context.signal) } : {});
    if (comment) await this.jira(`commenting ${event.type} on ${key}`, false, () => this.commentOnce(key, event, comment, context));
    const moment = ticketMoment(event);
    const transition = moment ? this.deps.config.transitions[moment] : undefined;
    if (transition) await this.jira(`moving ${key} (${transition})`, false, () => this.transitionOnce(key, transition, event, context));
  }

  /** The change's issue key: recorded, found again in Jira, or created now. */
  private async ensureTicket(facts: ChangeFacts, context: DeliveryContext): Promise<string> {
    const { store, client, config } = this.deps;
    const { taskQueue, signal } = context;
    const { changeId } = facts;
    const existing = await store.get(taskQueue, this.name, changeId);
    if (existing?.key) return existing.key;
    if (existing) {
      // An earlier create's outcome is unknown: it may have landed. Find it before creating another.
      const found = await client.issuesWithLabel(config.project, changeLabel(changeId), signal);
      if (found.length > 0) {
        if (found.length > 1) this.deps.logger.warn({ changeId, keys: found.map((issue) => issue.key) }, 'more than one Jira issue carries this change\'s label; keeping the oldest');
        return this.recordTicket(changeId, found[0].key, taskQueue);
      }
      if (existing.claimAgeMs < config.searchSettleMs) {
        throw new DeliveryFailure(`the ticket of ${changeId} may have been created (an earlier attempt's outcome is unknown); waiting for Jira's search index before creating it`, {
          retryAfterMs: Math.max(1000, Math.min(config.searchSettleMs - existing.claimAgeMs, 10_000)),
        });
      }
    }
    await store.claim(taskQueue, this.name, changeId);
    let created;
    try {
      created = await client.createIssue(
        {
          project: { key: config.project },
          issuetype: { name: config.issueType },
          summary: issueSummary(facts),
          description: issueDescription(facts, { pullRequestWebUrl: this.deps.pullRequestWebUrl }),
          labels: issueLabels(changeId),
        },
        signal,
      );
    } catch (error) {
      // Jira answered with a refusal: nothing was created, and the next attempt need not search for it.
      if (error instanceof JiraError && error.notApplied) await store.release(taskQueue, this.name, changeId);
      throw error;
    }
    this.deps.logger.info({ changeId, key: created.key }, 'Jira issue opened for the change');
    return this.recordTicket(changeId, created.key, taskQueue);
  }

  /** The ledger first (idempotent by its key), then the store: a crash in between finds the issue by search again. */
  private async recordTicket(changeId: string, key: string, taskQueue: string): Promise<string> {
    const url = this.deps.client.browseUrl(key);
    const data: LedgerData['change.ticket'] = { system: 'jira', endpoint: this.name, key, url };
    await this.deps.ledger.append([{ key: `${changeWorkflowId(changeId)}:ticket:${this.name}`, kind: 'change.ticket', subject: changeWorkflowId(changeId), data }]);
    await this.deps.store.record(taskQueue, this.name, changeId, key, url);
    return key;
  }

  private async commentOnce(key: string, event: ChangeEvent, body: AdfDoc, context: DeliveryContext): Promise<void> {
    const { client } = this.deps;
    if (context.retrying) {
      const comments = await client.comments(key, context.signal);
      const posted = comments.some((comment) =>
        comment.properties.some((property) => property.key === COMMENT_EVENT_PROPERTY && (property.value as { event?: unknown } | null)?.event === event.id),
      );
      if (posted) return;
    }
    await client.addComment(key, body, [{ key: COMMENT_EVENT_PROPERTY, value: { event: event.id, type: event.type, seq: event.data.ledger.seq } }], context.signal);
  }

  private async transitionOnce(key: string, name: string, event: ChangeEvent, context: DeliveryContext): Promise<void> {
    const { client } = this.deps;
    const available = await client.transitions(key, context.signal);
    const chosen = available.find((transition) => transition.name.trim().toLowerCase() === name.trim().toLowerCase());
    if (chosen) {
      await client.transition(key, chosen.id, context.signal);
      return;
    }
    // Not available from where the issue is. Already closed (by an earlier attempt, an earlier step, or a person):
    // nothing to do. Anywhere else: the workflow does not allow it — passed over, and recorded.
    const status = await client.issueStatus(key, context.signal);
    if (status?.category === 'done') {
      this.deps.logger.debug({ key, transition: name, status: status.name, type: event.type }, 'ticket already closed; transition not needed');
      return;
    }
    throw new DeliveryFailure(
      `transition "${name}" is not available for ${key} in status "${status?.name ?? '?'}" (available: ${available.map((transition) => transition.name).join(', ') || 'none'}); check TOLLGATE_JIRA_TRANSITIONS`,
      { refused: true },
    );
  }

  /** Jira errors as delivery failures: a 4xx other than auth and throttling on an existing issue is passed over
   * (the issue was deleted, the body refused); a refused create is not (it is almost always configuration — a
   * project, an issue type, a required field — and would otherwise leave every later change without a ticket). */
  private async jira<T>(what: string, creating: boolean, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof JiraError)) throw error;
      throw new DeliveryFailure(`${what}: ${error.message}`, { retryAfterMs: error.retryAfterMs, refused: !creating && error.refused });
    }
  }

  private async factsOf(changeId: string): Promise<ChangeFacts> {
    const known = this.facts.get(changeId);
    if (known) return known;
    const rows = await this.deps.ledger.list({ subject: changeWorkflowId(changeId), kinds: ['change.submitted', 'change.planned'] });
    const facts: ChangeFacts = { changeId };
    for (const row of rows) {
      if (row.kind === 'change.submitted') facts.submitted = row.data as LedgerData['change.submitted'];
      if (row.kind === 'change.planned') facts.planned = row.data as LedgerData['change.planned'];
    }
    if (facts.planned) {
      if (this.facts.size >= REMEMBERED_CHANGES) this.facts.delete(this.facts.keys().next().value!);
      this.facts.set(changeId, facts);
    }
    return facts;
  }

  /**
   * The audit verdict behind a `change.audited` step (its source, who modified the object). The audit workflow
   * records its verdict after it has told the change, so the verdict's row can follow the change's by a moment: it
   * is awaited briefly, and the comment goes without those details if it does not come.
   */
  private async auditOf(event: ChangeEvent, signal?: AbortSignal): Promise<LedgerData['audit.approved'] | undefined> {
    const auditWorkflowId = (event.data as unknown as LedgerData['change.audited']).auditWorkflowId;
    if (typeof auditWorkflowId !== 'string' || auditWorkflowId === '') return undefined;
    const deadline = Date.now() + AUDIT_VERDICT_WAIT_MS;
    for (;;) {
      const [row] = await this.deps.ledger.list({ subject: auditWorkflowId, kinds: ['audit.approved'], limit: 1 });
      if (row) return row.data as LedgerData['audit.approved'];
      if (Date.now() >= deadline || signal?.aborted) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
