/**
 * The Genesys-shaped configuration API: read an object, write it (`PUT` by path, and the seed's
 * `POST /api/v2/configuration`), and list what changed since a time, oldest first and paged (the poll that catches
 * what a lost webhook missed, change-gate Edge Case 3). The version rules live in objects.ts; every successful
 * write emits `configuration.updated`, attributed to the OAuth client that made it.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { parseWith } from './errors';
import { writeIsDiscarded } from './faults';
import { fieldsOf, findObject, IsoTimeSchema, listChangedSince, toWire, writeObject } from './objects';
import { authenticatedClient } from './oauth';
import { emitConfigurationUpdated } from './webhooks';

/** `PUT /api/v2/configuration/{type}/{id}`: `{ version, ...fields }`; metadata keys a client echoes back are ignored. */
const ObjectPutSchema = z.looseObject({ version: z.number().int() });

/** `POST /api/v2/configuration` (the seed's endpoint): `{ type, id, version, ...fields }`. */
const ObjectPostSchema = z.looseObject({
  type: z.string().min(1),
  id: z.string().min(1),
  version: z.number().int(),
});

const ChangesQuerySchema = z.object({
  lastModifiedTime: IsoTimeSchema.optional(),
  pageSize: z.coerce.number().int().min(1).max(500).default(25),
  pageNumber: z.coerce.number().int().min(1).default(1),
});

export function configurationRoutes(ctx: EmulatorContext): Router {
  const router = Router();

  router.get('/api/v2/configuration', (req, res) => {
    const query = parseWith(ChangesQuerySchema, req.query);
    const since = query.lastModifiedTime === undefined ? undefined : Date.parse(query.lastModifiedTime);
    const changed = listChangedSince(ctx, since);
    const start = (query.pageNumber - 1) * query.pageSize;
    res.json({
      entities: changed.slice(start, start + query.pageSize).map(toWire),
      pageSize: query.pageSize,
      pageNumber: query.pageNumber,
      total: changed.length,
      pageCount: Math.ceil(changed.length / query.pageSize),
    });
  });

  router.get('/api/v2/configuration/:type/:id', (req, res) => {
    res.json(toWire(findObject(ctx, req.params.type, req.params.id)));
  });

  router.put('/api/v2/configuration/:type/:id', express.json({ limit: '5mb' }), (req, res) => {
    const body = parseWith(ObjectPutSchema, req.body);
    const { type, id } = req.params;
    const apply = !writeIsDiscarded(res);
    const written = writeObject(ctx, { type, id, version: body.version, fields: fieldsOf(body), clientId: authenticatedClient(res), apply });
    if (apply) emitConfigurationUpdated(ctx, written);
    res.json(toWire(written));
  });

  router.post('/api/v2/configuration', express.json({ limit: '5mb' }), (req, res) => {
    const body = parseWith(ObjectPostSchema, req.body);
    const apply = !writeIsDiscarded(res);
    const written = writeObject(ctx, {
      type: body.type,
      id: body.id,
      version: body.version,
      fields: fieldsOf(body),
      clientId: authenticatedClient(res),
      apply,
    });
    if (apply) emitConfigurationUpdated(ctx, written);
    res.json(toWire(written));
  });

  return router;
}
