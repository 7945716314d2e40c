/**
 * The audit trail of the real platform objects and its two query APIs, as the official SDK's AuditApi calls them:
 *
 *   POST /api/v2/audits/query/realtime                      the last 14 days, paged (pageNumber, pageSize, total, pageCount)
 *   POST /api/v2/audits/query                               an asynchronous query over any range → a transaction
 *   GET  /api/v2/audits/query/{transactionId}               its state (Queued → Running → Succeeded)
 *   GET  /api/v2/audits/query/{transactionId}/results       its entries, paged by an opaque `cursor`
 *   GET  /api/v2/audits/query[/realtime]/servicemapping      which services and entity types can be queried
 *
 * Every change to a real object (API write, UI edit, another OAuth client) becomes an `AuditLogMessage` naming the
 * `user` (a person, whose UI session is the web app's client) or only the `client` (an OAuth client acting as
 * itself), with `propertyChanges`; it is also pushed to notification channels subscribed to
 * `v2.audits.entitytype.{entityType}.entityid.{entityId}` in the topic's own shape (notification-channels.ts).
 */
import { randomUUID } from 'node:crypto';
import express, { Router } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { HttpError, badRequest, notFound, parseWith } from './errors';
import { PLATFORM_KINDS, UI_CLIENT_ID, renderObject, userIdOf, type Actor, type PlatformObject } from './platform-objects';

/** The organisation every entry belongs to (the emulator plays one org). */
export const EMULATED_ORG_ID = '6f3ef1f7-0000-4000-8000-00000000c0de';
const DAY_MS = 86_400_000;

/** `AuditLogMessage`, as `POST /api/v2/audits/query/realtime` returns it. */
export interface AuditEntry {
  id: string;
  userHomeOrgId: string;
  user?: { id: string; name?: string; selfUri: string };
  client?: { id: string; selfUri: string };
  remoteIp: string[];
  serviceName: string;
  level: 'USER' | 'SYSTEM';
  eventDate: string;
  action: string;
  entity: { id: string; name?: string; selfUri?: string };
  entityType: string;
  status: 'SUCCESS' | 'FAILURE';
  propertyChanges: { property: string; oldValues: string[]; newValues: string[] }[];
  context: Record<string, string>;
}

interface AuditQuery {
  id: string;
  startedAt: number;
  request: z.infer<typeof AuditQueryRequestSchema>;
  clientId: string;
}

export class AuditTrailState {
  readonly entries: AuditEntry[] = [];
  readonly queries = new Map<string, AuditQuery>();
}

const FilterSchema = z.object({ property: z.string().min(1), value: z.string() });
const SortSchema = z.object({ name: z.string().min(1), sortOrder: z.string().min(1) });
const IntervalSchema = z.string().refine((text) => parseInterval(text) !== undefined, { message: 'interval must be "<ISO start>/<ISO end>" with start before end' });

const AuditQueryRequestSchema = z.object({
  interval: IntervalSchema,
  serviceName: z.string().min(1),
  filters: z.array(FilterSchema).optional(),
  sort: z.array(SortSchema).optional(),
});
const RealtimeQueryRequestSchema = AuditQueryRequestSchema.extend({
  pageNumber: z.number().int().min(1).default(1),
  pageSize: z.number().int().min(1).max(500).default(25),
});

/** Filter properties the platform accepts, and what each reads of an entry. */
const FILTERS: Record<string, (entry: AuditEntry) => string | undefined> = {
  entitytype: (entry) => entry.entityType,
  entityid: (entry) => entry.entity.id,
  userid: (entry) => entry.user?.id,
  clientid: (entry) => entry.client?.id,
  action: (entry) => entry.action,
};

/** How a property's values appear in `propertyChanges`: strings as they are, anything else as JSON. */
export function auditValue(value: unknown): string[] {
  if (value === undefined) return [];
  return [typeof value === 'string' ? value : JSON.stringify(value)];
}

export interface RecordedChange {
  action: 'Create' | 'Update' | 'Delete';
  before?: PlatformObject;
  after?: PlatformObject;
  actor: Actor;
  /** When the change happened; defaults to now. */
  at?: string;
  /** Push it to subscribed channels (default true; entries seeded into the past are not news). */
  publish?: boolean;
}

/** Records one change of a real object in the audit trail and pushes it to subscribed notification channels. */
export function recordChange(ctx: EmulatorContext, change: RecordedChange): AuditEntry {
  const object = (change.after ?? change.before) as PlatformObject;
  const kind = PLATFORM_KINDS[object.type];
  const propertyChanges: AuditEntry['propertyChanges'] = [];
  const beforeFields = change.before?.fields ?? {};
  const afterFields = change.after?.fields ?? {};
  for (const property of [...new Set([...Object.keys(beforeFields), ...Object.keys(afterFields)])].sort()) {
    const oldValues = auditValue(beforeFields[property]);
    const newValues = auditValue(afterFields[property]);
    if (JSON.stringify(oldValues) !== JSON.stringify(newValues)) propertyChanges.push({ property, oldValues, newValues });
  }
  if (kind.versioned && change.after) {
    propertyChanges.push({ property: 'version', oldValues: change.before ? [String(change.before.version)] : [], newValues: [String(change.after.version)] });
  }
  const rendered = renderObject(object);
  const entry: AuditEntry = {
    id: randomUUID(),
    userHomeOrgId: EMULATED_ORG_ID,
    ...(change.actor.kind === 'user'
      ? {
          user: { id: userIdOf(change.actor.name), name: change.actor.name, selfUri: `/api/v2/users/${userIdOf(change.actor.name)}` },
          client: { id: UI_CLIENT_ID, selfUri: `/api/v2/oauth/clients/${UI_CLIENT_ID}` },
        }
      : { client: { id: change.actor.clientId, selfUri: `/api/v2/oauth/clients/${encodeURIComponent(change.actor.clientId)}` } }),
    remoteIp: ['127.0.0.1'],
    serviceName: kind.serviceName,
    level: 'USER',
    eventDate: change.at ?? new Date().toISOString(),
    action: change.action,
    entity: {
      id: object.id,
      name: typeof rendered.name === 'string' ? rendered.name : object.id,
      ...(object.type === 'datatable.row' ? {} : { selfUri: typeof rendered.selfUri === 'string' ? rendered.selfUri : undefined }),
    },
    entityType: kind.entityType,
    status: 'SUCCESS',
    propertyChanges,
    context: object.parentId !== undefined ? { datatableId: object.parentId } : {},
  };
  ctx.state.auditTrail.entries.push(entry);
  if (change.publish !== false) ctx.channels.publish(ctx, auditTopic(entry.entityType, entry.entity.id), auditTopicBody(entry));
  return entry;
}

export function auditTopic(entityType: string, entityId: string): string {
  return `v2.audits.entitytype.${entityType}.entityid.${entityId}`;
}

/** The same entry in the shape the audit topic sends (the SDK's `AuditTopicAuditLogMessage`). */
export function auditTopicBody(entry: AuditEntry): Record<string, unknown> {
  return {
    id: entry.id,
    ...(entry.user ? { userId: entry.user.id, username: { id: entry.user.id, name: entry.user.name }, userDisplay: entry.user.name } : {}),
    userHomeOrgId: entry.userHomeOrgId,
    ...(entry.client ? { clientId: { id: entry.client.id, selfUri: entry.client.selfUri } } : {}),
    remoteIp: entry.remoteIp,
    serviceName: entry.serviceName,
    level: entry.level,
    eventTime: entry.eventDate,
    action: entry.action,
    entityType: entry.entityType,
    entity: entry.entity,
    propertyChanges: entry.propertyChanges,
    context: entry.context,
  };
}

/** Entries of one service in an interval, filtered (all filters must hold), sorted by time. */
function select(ctx: EmulatorContext, request: z.infer<typeof AuditQueryRequestSchema>): AuditEntry[] {
  const interval = parseInterval(request.interval) as { start: number; end: number };
  const filters = (request.filters ?? []).map((filter) => {
    const read = FILTERS[filter.property.toLowerCase()];
    if (!read) throw badRequest(`Unsupported filter property ${filter.property}; use one of EntityType, EntityId, UserId, ClientId, Action`);
    return { read, value: filter.value };
  });
  const descending = (request.sort ?? []).some((sort) => sort.name.toLowerCase() === 'timestamp' && sort.sortOrder.toLowerCase().startsWith('desc'));
  const serviceName = request.serviceName.toLowerCase();
  const selected = ctx.state.auditTrail.entries.filter((entry) => {
    const at = Date.parse(entry.eventDate);
    return (
      entry.serviceName.toLowerCase() === serviceName &&
      at >= interval.start &&
      at < interval.end &&
      filters.every((filter) => filter.read(entry) === filter.value)
    );
  });
  // Entries keep their recording order within a millisecond (a stable sort).
  selected.sort((a, b) => Date.parse(a.eventDate) - Date.parse(b.eventDate));
  return descending ? selected.reverse() : selected;
}

function serviceMapping(): { services: { name: string; entities: { name: string; actions: string[] }[] }[] } {
  const services = new Map<string, Set<string>>();
  for (const kind of Object.values(PLATFORM_KINDS)) {
    if (!services.has(kind.serviceName)) services.set(kind.serviceName, new Set());
    services.get(kind.serviceName)!.add(kind.entityType);
  }
  return {
    services: [...services].map(([name, entities]) => ({ name, entities: [...entities].map((entity) => ({ name: entity, actions: ['Create', 'Update', 'Delete'] })) })),
  };
}

export function auditRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  router.get(['/api/v2/audits/query/servicemapping', '/api/v2/audits/query/realtime/servicemapping'], (_req, res) => {
    res.json(serviceMapping());
  });

  router.post('/api/v2/audits/query/realtime', express.json(), (req, res) => {
    const request = parseWith(RealtimeQueryRequestSchema, req.body);
    const interval = parseInterval(request.interval) as { start: number; end: number };
    const oldest = Date.now() - ctx.settings.realtimeAuditDays * DAY_MS;
    if (interval.start < oldest) {
      throw badRequest(`Realtime audit queries cover the last ${ctx.settings.realtimeAuditDays} days; use POST /api/v2/audits/query for older ranges`);
    }
    const entries = select(ctx, request);
    const start = (request.pageNumber - 1) * request.pageSize;
    res.json({
      entities: entries.slice(start, start + request.pageSize),
      pageSize: request.pageSize,
      pageNumber: request.pageNumber,
      total: entries.length,
      pageCount: Math.ceil(entries.length / request.pageSize),
    });
  });

  router.post('/api/v2/audits/query', express.json(), (req, res) => {
    const request = parseWith(AuditQueryRequestSchema, req.body);
    const query: AuditQuery = { id: randomUUID(), startedAt: Date.now(), request, clientId: String(res.locals.clientId) };
    ctx.state.auditTrail.queries.set(query.id, query);
    res.status(202).json(describeQuery(ctx, query));
  });

  router.get('/api/v2/audits/query/:transactionId', (req, res) => {
    const query = findQuery(ctx, req.params.transactionId);
    const status = describeQuery(ctx, query);
    res.status(status.state === 'Succeeded' ? 200 : 202).json(status);
  });

  router.get('/api/v2/audits/query/:transactionId/results', (req, res) => {
    const query = findQuery(ctx, req.params.transactionId);
    if (queryState(ctx, query) !== 'Succeeded') throw new HttpError(400, 'bad.request', `Audit query ${query.id} has not finished yet`);
    const { cursor, pageSize } = parseWith(ResultsQuerySchema, req.query);
    const offset = cursor === undefined ? 0 : decodeCursor(cursor, query.id);
    const entries = select(ctx, { ...query.request, sort: query.request.sort ?? [{ name: 'Timestamp', sortOrder: 'ascending' }] });
    const page = entries.slice(offset, offset + pageSize);
    const next = offset + page.length;
    res.json({ id: query.id, pageSize, entities: page, ...(next < entries.length ? { cursor: encodeCursor(next, query.id) } : {}) });
  });

  return router;
}

const ResultsQuerySchema = z.object({
  cursor: z.string().min(1).optional(),
  pageSize: z.coerce.number().int().min(1).max(500).default(25),
});

function findQuery(ctx: EmulatorContext, id: string): AuditQuery {
  const query = ctx.state.auditTrail.queries.get(id);
  if (!query) throw notFound(`No audit query ${id}`);
  return query;
}

function queryState(ctx: EmulatorContext, query: AuditQuery): 'Queued' | 'Running' | 'Succeeded' {
  const elapsed = Date.now() - query.startedAt;
  if (elapsed >= ctx.settings.auditQueryDelayMs) return 'Succeeded';
  return elapsed >= ctx.settings.auditQueryDelayMs / 2 ? 'Running' : 'Queued';
}

function describeQuery(ctx: EmulatorContext, query: AuditQuery) {
  return {
    id: query.id,
    state: queryState(ctx, query),
    startDate: new Date(query.startedAt).toISOString(),
    interval: query.request.interval,
    serviceName: query.request.serviceName,
    filters: query.request.filters ?? [],
    sort: query.request.sort ?? [],
  };
}

function encodeCursor(offset: number, queryId: string): string {
  return Buffer.from(JSON.stringify({ q: queryId, o: offset })).toString('base64url');
}

function decodeCursor(cursor: string, queryId: string): number {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { q?: unknown; o?: unknown };
    if (decoded.q === queryId && typeof decoded.o === 'number' && Number.isInteger(decoded.o) && decoded.o >= 0) return decoded.o;
  } catch {
    // falls through to the 400
  }
  throw badRequest('The cursor does not belong to this query');
}

export function parseInterval(text: string): { start: number; end: number } | undefined {
  const parts = text.split('/');
  if (parts.length !== 2) return undefined;
  const start = Date.parse(parts[0]);
  const end = Date.parse(parts[1]);
  if (Number.isNaN(start) || Number.isNaN(end) || start >= end) return undefined;
  return { start, end };
}

/** `POST /__emulator/audits`: entries to add as they are (e.g. older than the realtime window), one change each. */
export const SeedAuditEntriesSchema = z.object({
  entries: z
    .array(
      z.object({
        path: z.string().startsWith('/api/v2/'),
        eventDate: z.string().refine((value) => !Number.isNaN(Date.parse(value)), { message: 'must be an ISO 8601 time' }),
        action: z.enum(['Create', 'Update', 'Delete']).default('Update'),
        user: z.string().min(1).optional(),
        client: z.string().min(1).optional(),
        propertyChanges: z.array(z.object({ property: z.string(), oldValues: z.array(z.string()), newValues: z.array(z.string()) })).default([]),
      }),
    )
    .min(1),
});

export function seedAuditEntries(ctx: EmulatorContext, body: z.infer<typeof SeedAuditEntriesSchema>, resolve: (path: string) => PlatformObject | undefined): AuditEntry[] {
  return body.entries.map((seed) => {
    const object = resolve(seed.path);
    if (!object) throw notFound(`No object at ${seed.path}`);
    const actor: Actor = seed.user !== undefined ? { kind: 'user', name: seed.user } : { kind: 'client', clientId: seed.client ?? UI_CLIENT_ID };
    const entry = recordChange(ctx, { action: seed.action, after: object, before: object, actor, at: new Date(seed.eventDate).toISOString(), publish: false });
    entry.propertyChanges = seed.propertyChanges;
    // Kept in time order, as the platform's index returns them.
    ctx.state.auditTrail.entries.sort((a, b) => Date.parse(a.eventDate) - Date.parse(b.eventDate));
    return entry;
  });
}
