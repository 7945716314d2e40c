/**
 * Genesys Cloud's Audit API, as Tollgate reads it to find changes made outside the gate and who made them:
 *
 *   POST /api/v2/audits/query/realtime   the last 14 days, paged by pageNumber/pageCount (one service per query)
 *   POST /api/v2/audits/query            an asynchronous query for older ranges, then
 *   GET  /api/v2/audits/query/{id}       until it has Succeeded, and
 *   GET  /api/v2/audits/query/{id}/results?cursor=…   page by page
 *
 * and the same entries as notification-channel events (`v2.audits.entitytype.{type}.entityid.{id}`), whose body has
 * other field names. Both become one `AuditChange`: who (a person — `user` — or an OAuth client acting as itself —
 * `client` only), what (entity type and id, action, property changes) and when. Every request goes through the
 * Genesys client, so it takes a permit from the shared request budget like any other.
 */
import { z } from 'zod';
import type { GenesysClient } from './client';
import { GenesysProtocolError } from './errors';

/** How far back the realtime query reaches on the platform. */
export const REALTIME_AUDIT_DAYS = 14;
const DAY_MS = 86_400_000;
/** Upper bound on pages and result cursors followed: a server that never stops is a protocol error. */
const MAX_PAGES = 10_000;

const PropertyChangeSchema = z.looseObject({
  property: z.string().optional(),
  oldValues: z.array(z.string()).optional(),
  newValues: z.array(z.string()).optional(),
});

const EntityRefSchema = z.looseObject({ id: z.string().optional(), name: z.string().optional() });

/** `AuditLogMessage` (realtime query and asynchronous results). */
export const AuditLogMessageSchema = z.looseObject({
  id: z.string().optional(),
  user: EntityRefSchema.optional(),
  client: EntityRefSchema.optional(),
  serviceName: z.string().optional(),
  eventDate: z.string(),
  action: z.string().optional(),
  entity: EntityRefSchema.optional(),
  entityType: z.string().optional(),
  propertyChanges: z.array(PropertyChangeSchema).optional(),
  context: z.record(z.string(), z.string()).optional(),
});

/** `AuditTopicAuditLogMessage` (a notification channel's event body). */
export const AuditTopicMessageSchema = z.looseObject({
  id: z.string().optional(),
  userId: z.string().optional(),
  username: EntityRefSchema.optional(),
  userDisplay: z.string().optional(),
  clientId: EntityRefSchema.optional(),
  serviceName: z.string().optional(),
  eventTime: z.string(),
  action: z.string().optional(),
  entityType: z.string().optional(),
  entity: EntityRefSchema.optional(),
  propertyChanges: z.array(PropertyChangeSchema).optional(),
  context: z.record(z.string(), z.string()).optional(),
});

const RealtimePageSchema = z.looseObject({
  entities: z.array(AuditLogMessageSchema).default([]),
  pageNumber: z.number().int().optional(),
  pageCount: z.number().int().nonnegative().optional(),
});
const QueryStatusSchema = z.looseObject({ id: z.string().min(1), state: z.string() });
const QueryResultsSchema = z.looseObject({ entities: z.array(AuditLogMessageSchema).default([]), cursor: z.string().optional() });

export interface AuditChange {
  entryId?: string;
  serviceName?: string;
  entityType: string;
  entityId: string;
  context?: Record<string, string>;
  action: string;
  /** When the platform made the change (ISO). */
  at: string;
  /** A person (in the UI, whose browser session is the web app's client)… */
  user?: { id: string; name?: string };
  /** …or the OAuth client that acted (as itself when there is no user). */
  clientId?: string;
  propertyChanges: { property: string; oldValues: string[]; newValues: string[] }[];
}

function propertyChanges(changes: z.infer<typeof PropertyChangeSchema>[] | undefined): AuditChange['propertyChanges'] {
  return (changes ?? [])
    .filter((change) => typeof change.property === 'string')
    .map((change) => ({ property: change.property as string, oldValues: change.oldValues ?? [], newValues: change.newValues ?? [] }));
}

/** A realtime or asynchronous query entry; undefined when it names no entity. */
export function changeFromEntry(entry: z.infer<typeof AuditLogMessageSchema>): AuditChange | undefined {
  if (!entry.entity?.id || !entry.entityType) return undefined;
  return {
    entryId: entry.id,
    serviceName: entry.serviceName,
    entityType: entry.entityType,
    entityId: entry.entity.id,
    context: entry.context,
    action: entry.action ?? 'Update',
    at: new Date(entry.eventDate).toISOString(),
    ...(entry.user?.id ? { user: { id: entry.user.id, name: entry.user.name } } : {}),
    ...(entry.client?.id ? { clientId: entry.client.id } : {}),
    propertyChanges: propertyChanges(entry.propertyChanges),
  };
}

/** A notification channel's audit event; undefined when it names no entity. */
export function changeFromTopicEvent(body: unknown): AuditChange | undefined {
  const parsed = AuditTopicMessageSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const event = parsed.data;
  if (!event.entity?.id || !event.entityType) return undefined;
  const userId = event.userId ?? event.username?.id;
  return {
    entryId: event.id,
    serviceName: event.serviceName,
    entityType: event.entityType,
    entityId: event.entity.id,
    context: event.context,
    action: event.action ?? 'Update',
    at: new Date(event.eventTime).toISOString(),
    ...(userId ? { user: { id: userId, name: event.userDisplay ?? event.username?.name } } : {}),
    ...(event.clientId?.id ? { clientId: event.clientId.id } : {}),
    propertyChanges: propertyChanges(event.propertyChanges),
  };
}

export interface AuditQuery {
  serviceName: string;
  from: Date;
  to: Date;
  filters?: { property: 'EntityType' | 'EntityId' | 'UserId' | 'ClientId' | 'Action'; value: string }[];
}

function interval(from: Date, to: Date): string {
  return `${from.toISOString()}/${to.toISOString()}`;
}

/** Every entry of one realtime query, oldest first, all pages. */
export async function queryRealtime(genesys: GenesysClient, query: AuditQuery, pageSize = 100): Promise<AuditChange[]> {
  const changes: AuditChange[] = [];
  for (let pageNumber = 1; pageNumber <= MAX_PAGES; pageNumber++) {
    const page = await genesys.request('POST', '/api/v2/audits/query/realtime', RealtimePageSchema, {
      interval: interval(query.from, query.to),
      serviceName: query.serviceName,
      ...(query.filters ? { filters: query.filters } : {}),
      sort: [{ name: 'Timestamp', sortOrder: 'ascending' }],
      pageNumber,
      pageSize,
    });
    for (const entry of page.entities) {
      const change = changeFromEntry(entry);
      if (change) changes.push(change);
    }
    if (page.entities.length === 0 || pageNumber >= (page.pageCount ?? pageNumber)) return changes;
  }
  throw new GenesysProtocolError(`audit realtime query: more than ${MAX_PAGES} pages`, { path: '/api/v2/audits/query/realtime' });
}

/** Every entry of one asynchronous query: start it, wait until it has succeeded, follow the result cursor. */
export async function queryAsynchronously(
  genesys: GenesysClient,
  query: AuditQuery,
  options: { pageSize?: number; pollMs?: number; timeoutMs?: number; onWait?: () => void } = {},
): Promise<AuditChange[]> {
  const started = await genesys.request('POST', '/api/v2/audits/query', QueryStatusSchema, {
    interval: interval(query.from, query.to),
    serviceName: query.serviceName,
    ...(query.filters ? { filters: query.filters } : {}),
    sort: [{ name: 'Timestamp', sortOrder: 'ascending' }],
  });
  const deadline = Date.now() + (options.timeoutMs ?? 5 * 60_000);
  let state = started.state;
  while (state !== 'Succeeded') {
    if (state === 'Failed' || state === 'Cancelled') throw new GenesysProtocolError(`audit query ${started.id} ended ${state}`, { path: '/api/v2/audits/query' });
    if (Date.now() > deadline) throw new GenesysProtocolError(`audit query ${started.id} did not finish in time (${state})`, { path: '/api/v2/audits/query' });
    options.onWait?.();
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
    state = (await genesys.request('GET', `/api/v2/audits/query/${encodeURIComponent(started.id)}`, QueryStatusSchema)).state;
  }
  const changes: AuditChange[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams({ pageSize: String(options.pageSize ?? 500), ...(cursor ? { cursor } : {}) });
    const results = await genesys.request('GET', `/api/v2/audits/query/${encodeURIComponent(started.id)}/results?${query.toString()}`, QueryResultsSchema);
    for (const entry of results.entities) {
      const change = changeFromEntry(entry);
      if (change) changes.push(change);
    }
    if (!results.cursor || results.entities.length === 0) return changes;
    cursor = results.cursor;
  }
  throw new GenesysProtocolError(`audit query ${started.id}: more than ${MAX_PAGES} result pages`, { path: '/api/v2/audits/query' });
}

/**
 * Every change of one service between `from` and `to`, oldest first: the part older than the realtime window
 * (14 days, less a margin) through the asynchronous query, the rest through the realtime query.
 */
export async function auditChangesBetween(
  genesys: GenesysClient,
  query: AuditQuery,
  options: { now?: number; realtimeDays?: number; onWait?: () => void; pollMs?: number } = {},
): Promise<AuditChange[]> {
  const now = options.now ?? Date.now();
  // An hour inside the window, so that a query started now is not refused by the time it reaches the platform.
  const realtimeFrom = new Date(now - (options.realtimeDays ?? REALTIME_AUDIT_DAYS) * DAY_MS + 3_600_000);
  const changes: AuditChange[] = [];
  if (query.from < realtimeFrom) {
    const to = query.to < realtimeFrom ? query.to : realtimeFrom;
    changes.push(...(await queryAsynchronously(genesys, { ...query, to }, { onWait: options.onWait, pollMs: options.pollMs })));
  }
  if (query.to > realtimeFrom) {
    const from = query.from > realtimeFrom ? query.from : realtimeFrom;
    changes.push(...(await queryRealtime(genesys, { ...query, from })));
  }
  return changes;
}

/** Who made a change, in words for alerts and reasons. */
export function describeActor(change: Pick<AuditChange, 'user' | 'clientId'>): string {
  if (change.user) return `user ${change.user.name ?? change.user.id}`;
  return change.clientId ? `OAuth client ${change.clientId}` : 'someone';
}
