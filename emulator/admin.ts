/**
 * The admin API under `/__emulator`, how tests and demos set up and inspect a scenario over HTTP: reset, the state
 * snapshot, seeding objects (no webhook), a human's edit in the Genesys UI (the seed's "Admin Override" trap),
 * version rules, faults, pausing deliveries, emitting lifecycle events, settings and token expiry. It needs no
 * token and injected faults never touch it, so a test can always inspect and repair the emulator it is breaking.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { parseWith } from './errors';
import { addFault, FaultSpecSchema } from './faults';
import { maskIntegrationWebhook } from './integrations';
import { emitLifecycleEvent, LifecycleEmitSchema } from './lifecycle';
import { editInUi, fieldsOf, IsoTimeSchema, seedObject, toWire } from './objects';
import { expireAllTokens } from './oauth';
import { describeTenant } from './partner';
import { applySettingsPatch, describeSettings, SettingsPatchSchema } from './settings';
import { EmulatorState } from './state';
import { emitConfigurationUpdated, maskSubscription } from './webhooks';
import { recordChange, SeedAuditEntriesSchema, seedAuditEntries } from './audit-trail';
import { PLATFORM_KINDS, editPlatformObject, notFoundAtPath, objectAtPath, objectPath, renderObject, type Actor } from './platform-objects';
import { describeRequests } from './request-budgets';

/** `PUT /__emulator/objects/{type}/{id}`: the fields, plus optional `version` (default 1) and, as an extension for
 * polling tests, `lastModifiedTime` and `modifiedBy`. */
const SeedObjectSchema = z.looseObject({
  version: z.number().int().min(0).default(1),
  lastModifiedTime: IsoTimeSchema.optional(),
  modifiedBy: z.object({ kind: z.enum(['client', 'user']), id: z.string().min(1) }).optional(),
});

const UiEditSchema = z.object({ user: z.string().min(1).default('admin@genesys-ui'), fields: z.record(z.string(), z.unknown()) });

const VersionRuleSchema = z.object({ versionRule: z.enum(['increment', 'current']) });

/** `POST /__emulator/ui-edit`: a change made outside the gate — by a person in the UI (`user`) or by another OAuth
 * client (`client`) — to the object at a real API path (or a seed object at `/api/v2/configuration/{type}/{id}`). */
const PathEditSchema = z
  .object({
    path: z.string().startsWith('/api/v2/'),
    user: z.string().min(1).optional(),
    client: z.string().min(1).optional(),
    fields: z.record(z.string(), z.unknown()),
  })
  .refine((body) => !(body.user !== undefined && body.client !== undefined), { message: 'give user or client, not both' });

const ConflictVariantSchema = z.object({ status: z.union([z.literal(409), z.literal(400)]) });

/** The admin API for tests and demos. Never subject to injected faults, never behind a token. */
export function adminRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  router.use(express.json({ limit: '5mb' }));

  router.post('/reset', (_req, res) => {
    resetEmulator(ctx);
    res.status(204).end();
  });

  router.get('/state', (_req, res) => {
    res.json(describeState(ctx));
  });

  router.put('/objects/:type/:id', (req, res) => {
    const body = parseWith(SeedObjectSchema, req.body ?? {});
    const object = seedObject(ctx, req.params.type, req.params.id, {
      version: body.version,
      fields: fieldsOf(body),
      lastModifiedTime: body.lastModifiedTime === undefined ? undefined : new Date(body.lastModifiedTime).toISOString(),
      modifiedBy: body.modifiedBy,
    });
    res.json(toWire(object));
  });

  router.post('/objects/:type/:id/ui-edit', (req, res) => {
    const body = parseWith(UiEditSchema, req.body);
    const object = editInUi(ctx, req.params.type, req.params.id, body.user, body.fields);
    emitConfigurationUpdated(ctx, object);
    res.json(toWire(object));
  });

  router.post('/ui-edit', (req, res) => {
    const body = parseWith(PathEditSchema, req.body);
    const seed = /^\/api\/v2\/configuration\/([^/]+)\/([^/?]+)$/.exec(body.path);
    if (seed) {
      const object = editInUi(ctx, decodeURIComponent(seed[1]), decodeURIComponent(seed[2]), body.user ?? body.client ?? 'admin@genesys-ui', body.fields);
      if (body.client !== undefined) object.modifiedBy = { kind: 'client', id: body.client };
      emitConfigurationUpdated(ctx, object);
      res.json(toWire(object));
      return;
    }
    const current = objectAtPath(ctx, body.path);
    if (!current) throw notFoundAtPath(body.path);
    const actor: Actor = body.client !== undefined ? { kind: 'client', clientId: body.client } : { kind: 'user', name: body.user ?? 'admin@genesys-ui' };
    const after = editPlatformObject(ctx, current, body.fields, actor);
    recordChange(ctx, { action: 'Update', before: current, after, actor });
    res.json(renderObject(after));
  });

  router.put('/conflicts/:type', (req, res) => {
    const { status } = parseWith(ConflictVariantSchema, req.body);
    if (!PLATFORM_KINDS[req.params.type]?.versioned) throw notFoundAtPath(`a versioned platform type ${req.params.type}`);
    ctx.state.platform.conflictVariants.set(req.params.type, status);
    res.json({ type: req.params.type, status });
  });

  router.get('/requests', (req, res) => {
    const since = typeof req.query.since === 'string' ? Date.parse(req.query.since) : undefined;
    res.json(describeRequests(ctx, since !== undefined && !Number.isNaN(since) ? since : undefined));
  });

  router.get('/audits', (_req, res) => {
    res.json({ entities: ctx.state.auditTrail.entries });
  });

  router.post('/audits', (req, res) => {
    const entries = seedAuditEntries(ctx, parseWith(SeedAuditEntriesSchema, req.body), (path) => objectAtPath(ctx, path));
    res.status(201).json({ entities: entries });
  });

  router.put('/types/:type', (req, res) => {
    const { versionRule } = parseWith(VersionRuleSchema, req.body);
    ctx.state.versionRules.set(req.params.type, versionRule);
    res.json({ type: req.params.type, versionRule });
  });

  router.post('/faults', (req, res) => {
    const fault = addFault(ctx, parseWith(FaultSpecSchema, req.body));
    res.status(201).json({ id: fault.id });
  });

  router.delete('/faults', (_req, res) => {
    ctx.state.faults.length = 0;
    res.status(204).end();
  });

  router.delete('/faults/:faultId', (req, res) => {
    const index = ctx.state.faults.findIndex((fault) => fault.id === req.params.faultId);
    if (index >= 0) ctx.state.faults.splice(index, 1);
    res.status(index >= 0 ? 204 : 404).end();
  });

  router.post('/webhooks/pause', (_req, res) => {
    ctx.deliveries.pause();
    res.json({ paused: true });
  });

  router.post('/webhooks/resume', (_req, res) => {
    ctx.deliveries.resume();
    res.json({ paused: false });
  });

  router.post('/integrations/:integrationId/orgs/:orgId/events', (req, res) => {
    const request = parseWith(LifecycleEmitSchema, req.body);
    res.status(202).json(emitLifecycleEvent(ctx, req.params.integrationId, req.params.orgId, request));
  });

  router.post('/settings', (req, res) => {
    const patch = parseWith(SettingsPatchSchema, req.body);
    ctx.settings = applySettingsPatch(ctx.settings, patch);
    res.json(describeSettings(ctx.settings));
  });

  router.post('/tokens/expire', (_req, res) => {
    res.json({ expired: expireAllTokens(ctx) });
  });

  return router;
}

/** Back to an empty emulator with its start-up settings; pending and in-flight deliveries are cancelled. */
export function resetEmulator(ctx: EmulatorContext): void {
  ctx.deliveries.reset();
  ctx.channels.reset();
  ctx.state = new EmulatorState();
  ctx.settings = ctx.startupSettings;
}

export function describeState(ctx: EmulatorContext): Record<string, unknown> {
  const { state } = ctx;
  const now = Date.now();
  return {
    objects: [...state.objects.values()].map(toWire),
    types: Object.fromEntries(state.versionRules),
    installations: [...state.installations.values()],
    tokens: [
      ...[...state.accessTokens.values()].map((token) => ({
        kind: 'access',
        clientId: token.clientId,
        issuedAt: new Date(token.issuedAt).toISOString(),
        expiresAt: new Date(token.expiresAt).toISOString(),
        expired: now >= token.expiresAt,
      })),
      ...state.integrationTokens.map((token) => ({ kind: 'integration', ...token, revoked: token.revokedAt !== undefined })),
    ],
    tenants: [...state.tenants.values()].map((tenant) => describeTenant(ctx, tenant)),
    tenantCreateCounts: Object.fromEntries(state.tenantCreateCounts),
    crmConnections: [...state.crmConnections.values()],
    archives: state.archives,
    alerts: state.alerts,
    subscriptions: [...state.subscriptions.values()].map(maskSubscription),
    integrations: [...state.integrationWebhooks.values()].map(maskIntegrationWebhook),
    eventSequences: Object.fromEntries(state.eventSequences),
    deliveries: ctx.deliveries.list(),
    faults: state.faults,
    paused: ctx.deliveries.paused,
    settings: describeSettings(ctx.settings),
    platformObjects: [...state.platform.objects.values()].map((object) => ({ type: object.type, path: objectPath(object), object: renderObject(object) })),
    datatables: [...state.platform.datatables.values()],
    conflictVariants: Object.fromEntries(state.platform.conflictVariants),
    auditEntries: state.auditTrail.entries.length,
    channels: ctx.channels.describeAll(),
    jiraIssues: state.jira.issues.length,
  };
}
