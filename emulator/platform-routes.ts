/**
 * The real platform's object routes, as the official SDK calls them: for each kind its collection (GET: a page of
 * `{ entities, pageSize, pageNumber, total, pageCount, firstUri, selfUri, lastUri, nextUri?, previousUri? }`; POST:
 * create) and its object (GET, PUT or PATCH, DELETE). Data table rows live under their table
 * (`/api/v2/flows/datatables/{datatableId}/rows/{rowId}`; a GET shows only the key unless `showbrief=false`).
 * A user's `groups` and `locations` show only when the read's `expand` names them, as on the platform.
 * Every change is written to the audit trail. The version rules and conflict answers are platform-objects.ts's.
 */
import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { recordChange } from './audit-trail';
import type { EmulatorContext } from './context';
import { badRequest, notFound, parseWith } from './errors';
import { writeIsDiscarded } from './faults';
import {
  PLATFORM_KINDS,
  createPlatformObject,
  deletePlatformObject,
  expandOf,
  findPlatformObject,
  renderForApi,
  renderObject,
  updatePlatformObject,
  writableFields,
  type Actor,
  type Datatable,
  type PlatformKind,
  type PlatformObject,
} from './platform-objects';

const PageQuerySchema = z.looseObject({
  pageSize: z.coerce.number().int().min(1).max(500).default(25),
  pageNumber: z.coerce.number().int().min(1).default(1),
});

const BodySchema = z.record(z.string(), z.unknown());

const DatatableSchema = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  schema: z.looseObject({ properties: z.record(z.string(), z.unknown()).optional() }).default({}),
  division: z.record(z.string(), z.unknown()).optional(),
});

function apiActor(res: Response): Actor {
  return { kind: 'client', clientId: String(res.locals.clientId) };
}

/** One page of a listing, with the platform's paging URIs. */
export function pageOf<T>(req: Request, items: T[], path: string): Record<string, unknown> {
  const { pageSize, pageNumber } = parseWith(PageQuerySchema, req.query);
  const pageCount = Math.max(1, Math.ceil(items.length / pageSize));
  const uri = (page: number) => {
    const query = new URLSearchParams({ ...(req.query as Record<string, string>), pageSize: String(pageSize), pageNumber: String(page) });
    return `${path}?${query.toString()}`;
  };
  return {
    entities: items.slice((pageNumber - 1) * pageSize, pageNumber * pageSize),
    pageSize,
    pageNumber,
    total: items.length,
    pageCount,
    firstUri: uri(1),
    selfUri: uri(pageNumber),
    lastUri: uri(pageCount),
    ...(pageNumber < pageCount ? { nextUri: uri(pageNumber + 1) } : {}),
    ...(pageNumber > 1 ? { previousUri: uri(pageNumber - 1) } : {}),
  };
}

function objectsOf(ctx: EmulatorContext, type: string, parentId?: string): PlatformObject[] {
  return [...ctx.state.platform.objects.values()].filter((object) => object.type === type && object.parentId === parentId);
}

/** Applies an update and records it, unless a `discardWrite` fault asked for an answer without a change. */
function update(ctx: EmulatorContext, res: Response, current: PlatformObject, body: Record<string, unknown>, mode: 'replace' | 'merge'): PlatformObject {
  const kind = PLATFORM_KINDS[current.type];
  const apply = !writeIsDiscarded(res);
  const { before, after } = updatePlatformObject(ctx, current, { fields: writableFields(kind, body), version: body.version, mode, actor: apiActor(res), apply });
  if (apply) recordChange(ctx, { action: 'Update', before, after, actor: apiActor(res) });
  return after;
}

function mountKind(ctx: EmulatorContext, router: Router, kind: PlatformKind): void {
  const item = `${kind.collection}/:id`;
  router.get(kind.collection, (req, res) => {
    const expand = expandOf(req.query);
    res.json(pageOf(req, objectsOf(ctx, kind.type).map((object) => renderForApi(object, expand)), kind.collection));
  });
  router.post(kind.collection, express.json({ limit: '5mb' }), (req, res) => {
    const object = createPlatformObject(ctx, kind, parseWith(BodySchema, req.body), apiActor(res));
    recordChange(ctx, { action: 'Create', after: object, actor: apiActor(res) });
    res.status(200).json(renderForApi(object));
  });
  router.get(item, (req, res) => {
    res.json(renderForApi(findPlatformObject(ctx, kind.type, String(req.params.id)), expandOf(req.query)));
  });
  const write = (mode: 'replace' | 'merge') => (req: Request, res: Response) => {
    const current = findPlatformObject(ctx, kind.type, String(req.params.id));
    res.json(renderForApi(update(ctx, res, current, parseWith(BodySchema, req.body), mode)));
  };
  if (kind.updateMethod === 'PUT') router.put(item, express.json({ limit: '5mb' }), write('replace'));
  else router.patch(item, express.json({ limit: '5mb' }), write('merge'));
  router.delete(item, (req, res) => {
    const object = findPlatformObject(ctx, kind.type, String(req.params.id));
    deletePlatformObject(ctx, object);
    recordChange(ctx, { action: 'Delete', before: object, actor: apiActor(res) });
    res.status(204).end();
  });
}

function findDatatable(ctx: EmulatorContext, id: string): Datatable {
  const table = ctx.state.platform.datatables.get(id);
  if (!table) throw notFound(`Data table ${id} not found`);
  return table;
}

function mountDatatables(ctx: EmulatorContext, router: Router): void {
  const rows = PLATFORM_KINDS['datatable.row'];
  const base = '/api/v2/flows/datatables';
  router.get(base, (req, res) => {
    res.json(pageOf(req, [...ctx.state.platform.datatables.values()], base));
  });
  router.post(base, express.json(), (req, res) => {
    const body = parseWith(DatatableSchema, req.body);
    const table: Datatable = { id: randomUUID(), name: body.name, description: body.description, schema: body.schema, division: body.division };
    ctx.state.platform.datatables.set(table.id, table);
    res.status(200).json(table);
  });
  router.get(`${base}/:datatableId`, (req, res) => {
    res.json(findDatatable(ctx, req.params.datatableId));
  });
  router.get(`${base}/:datatableId/rows`, (req, res) => {
    findDatatable(ctx, req.params.datatableId);
    const brief = req.query.showbrief !== 'false';
    const all = objectsOf(ctx, 'datatable.row', req.params.datatableId).map((row) => (brief ? { key: row.id } : renderObject(row)));
    res.json(pageOf(req, all, `${base}/${req.params.datatableId}/rows`));
  });
  router.post(`${base}/:datatableId/rows`, express.json(), (req, res) => {
    findDatatable(ctx, req.params.datatableId);
    const body = parseWith(BodySchema, req.body);
    if (typeof body.key !== 'string' || body.key === '') throw badRequest('A row needs a string "key"');
    const row = createPlatformObject(ctx, rows, body, apiActor(res), req.params.datatableId);
    recordChange(ctx, { action: 'Create', after: row, actor: apiActor(res) });
    res.status(200).json(renderObject(row));
  });
  router.get(`${base}/:datatableId/rows/:rowId`, (req, res) => {
    findDatatable(ctx, req.params.datatableId);
    const row = findPlatformObject(ctx, 'datatable.row', req.params.rowId, req.params.datatableId);
    // The platform's default (`showbrief=true`) answers the key only.
    res.json(req.query.showbrief === 'false' ? renderObject(row) : { key: row.id });
  });
  router.put(`${base}/:datatableId/rows/:rowId`, express.json(), (req, res) => {
    findDatatable(ctx, req.params.datatableId);
    const row = findPlatformObject(ctx, 'datatable.row', req.params.rowId, req.params.datatableId);
    res.json(renderObject(update(ctx, res, row, parseWith(BodySchema, req.body), 'replace')));
  });
  router.delete(`${base}/:datatableId/rows/:rowId`, (req, res) => {
    const row = findPlatformObject(ctx, 'datatable.row', req.params.rowId, req.params.datatableId);
    deletePlatformObject(ctx, row);
    recordChange(ctx, { action: 'Delete', before: row, actor: apiActor(res) });
    res.status(204).end();
  });
}

export function platformRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  for (const kind of Object.values(PLATFORM_KINDS)) if (kind.type !== 'datatable.row') mountKind(ctx, router, kind);
  mountDatatables(ctx, router);
  return router;
}
