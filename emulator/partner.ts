/**
 * The partner-side systems that lifecycle provisioning reaches in sandbox mode: middleware tenants, CRM connections,
 * audit archives and a Slack-compatible alert sink. Tenant creates are counted, refused ones too, so tests can
 * prove "no duplicate tenant"; the CRM refuses a wrong client secret (lifecycle seed, Edge Case 2).
 *
 * Every tenant and CRM connection records its owner (org + integration) and reports it. A change or delete may
 * name the owner it expects (`?orgId=…&integrationId=…`): when the resource belongs to someone else the answer is
 * 409 `owner.mismatch` with the actual owner, and nothing changes — the check happens at the resource, atomically
 * with the change, so one installation can never remove another's resources.
 */
import { randomUUID } from 'node:crypto';
import express, { Router } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { HttpError, notFound, parseWith } from './errors';
import { sameSecret } from './secrets';
import type { Tenant } from './state';

const Configuration = z.record(z.string(), z.unknown());

const TenantCreateSchema = z.object({
  tenantId: z.string().min(1),
  orgId: z.string().min(1),
  integrationId: z.string().min(1),
  configuration: Configuration.default({}),
});

const TenantPatchSchema = z.object({ enabled: z.boolean().optional(), configuration: Configuration.optional() });

const CrmConnectionSchema = z.object({
  crmEndpoint: z.string().min(1),
  clientSecret: z.string(),
  orgId: z.string().min(1),
  integrationId: z.string().min(1),
});

/** The owner a caller expects, from the query string; both or neither. */
const ExpectedOwnerSchema = z.union([
  z.object({ orgId: z.string().min(1), integrationId: z.string().min(1) }),
  z.object({ orgId: z.undefined().optional(), integrationId: z.undefined().optional() }),
]);

const ArchiveSchema = z.object({ orgId: z.string().min(1), integrationId: z.string().min(1), tenantId: z.string().min(1) });

/** Slack-compatible incoming-webhook body: `text` plus whatever else (blocks, attachments). */
const AlertSchema = z.looseObject({ text: z.string() });

/**
 * The partner-side systems that lifecycle provisioning talks to in sandbox mode: middleware tenants, CRM
 * connections, audit archives and an alert sink. Plain HTTP, no auth (except the CRM secret check), so the
 * provisioning code is the same code that runs against the real systems.
 */
export function partnerRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  router.use('/partner', express.json({ limit: '1mb' }));

  router.post('/partner/tenants', (req, res) => {
    const body = parseWith(TenantCreateSchema, req.body);
    const counts = countCreateAttempt(ctx, body.tenantId);
    if (ctx.state.tenants.has(body.tenantId)) {
      throw new HttpError(409, 'conflict', `Tenant ${body.tenantId} already exists`);
    }
    counts.createCount += 1;
    const now = new Date().toISOString();
    const tenant: Tenant = { ...body, enabled: true, streamsEnabled: true, createdAt: now, updatedAt: now };
    ctx.state.tenants.set(tenant.tenantId, tenant);
    res.status(201).json(describeTenant(ctx, tenant));
  });

  router.get('/partner/tenants/:tenantId', (req, res) => {
    res.json(describeTenant(ctx, findTenant(ctx, req.params.tenantId)));
  });

  router.patch('/partner/tenants/:tenantId', (req, res) => {
    const patch = parseWith(TenantPatchSchema, req.body);
    const tenant = findTenant(ctx, req.params.tenantId);
    requireOwner(tenant, req.query, `Tenant ${tenant.tenantId}`);
    if (patch.enabled !== undefined) tenant.enabled = patch.enabled;
    if (patch.configuration !== undefined) tenant.configuration = patch.configuration;
    tenant.updatedAt = new Date().toISOString();
    res.json(describeTenant(ctx, tenant));
  });

  router.post('/partner/tenants/:tenantId/streams/disable', (req, res) => {
    const tenant = findTenant(ctx, req.params.tenantId);
    requireOwner(tenant, req.query, `Tenant ${tenant.tenantId}`);
    tenant.streamsEnabled = false;
    tenant.updatedAt = new Date().toISOString();
    res.status(204).end();
  });

  router.delete('/partner/tenants/:tenantId', (req, res) => {
    const tenant = findTenant(ctx, req.params.tenantId);
    requireOwner(tenant, req.query, `Tenant ${tenant.tenantId}`);
    ctx.state.tenants.delete(req.params.tenantId);
    res.status(204).end();
  });

  router.put('/partner/crm/connections/:tenantId', (req, res) => {
    const body = parseWith(CrmConnectionSchema, req.body);
    // The lifecycle seed's Edge Case 2: the CRM step fails on an invalid OAuth client secret, after the tenant exists.
    if (!sameSecret(body.clientSecret, ctx.settings.crmSecret)) {
      res.status(401).json({ error: 'invalid_client_secret' });
      return;
    }
    const existing = ctx.state.crmConnections.get(req.params.tenantId);
    // Re-pointing one's own connection is fine; taking over another installation's is not.
    if (existing) requireOwner(existing, body, `The CRM connection of ${existing.tenantId}`);
    const connection = {
      tenantId: req.params.tenantId,
      orgId: body.orgId,
      integrationId: body.integrationId,
      crmEndpoint: body.crmEndpoint,
      connectedAt: existing?.connectedAt ?? new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
    ctx.state.crmConnections.set(connection.tenantId, connection);
    res.json(connection);
  });

  router.get('/partner/crm/connections/:tenantId', (req, res) => {
    const connection = ctx.state.crmConnections.get(req.params.tenantId);
    if (!connection) throw notFound(`Tenant ${req.params.tenantId} has no CRM connection`);
    res.json(connection);
  });

  router.delete('/partner/crm/connections/:tenantId', (req, res) => {
    const connection = ctx.state.crmConnections.get(req.params.tenantId);
    if (!connection) throw notFound(`Tenant ${req.params.tenantId} has no CRM connection`);
    requireOwner(connection, req.query, `The CRM connection of ${connection.tenantId}`);
    ctx.state.crmConnections.delete(req.params.tenantId);
    res.status(204).end();
  });

  router.post('/partner/archives', (req, res) => {
    const body = parseWith(ArchiveSchema, req.body);
    const existing = ctx.state.archives.find(
      (archive) =>
        archive.orgId === body.orgId && archive.integrationId === body.integrationId && archive.tenantId === body.tenantId,
    );
    if (existing) {
      res.status(200).json(existing);
      return;
    }
    const archive = { id: randomUUID(), ...body, archivedAt: new Date().toISOString() };
    ctx.state.archives.push(archive);
    res.status(201).json(archive);
  });

  router.post('/partner/alerts', (req, res) => {
    const body = parseWith(AlertSchema, req.body);
    ctx.state.alerts.push({ receivedAt: new Date().toISOString(), body });
    res.json({ ok: true });
  });

  return router;
}

/** Every create attempt counts, including refused duplicates; `createCount` counts only the tenants made. */
function countCreateAttempt(ctx: EmulatorContext, tenantId: string) {
  const counts = ctx.state.tenantCreateCounts.get(tenantId) ?? { createCount: 0, createAttempts: 0 };
  counts.createAttempts += 1;
  ctx.state.tenantCreateCounts.set(tenantId, counts);
  return counts;
}

/** 409 `owner.mismatch` (with the actual owner) when the caller expects another owner than the resource has. */
function requireOwner(resource: { orgId: string; integrationId: string }, expected: unknown, what: string): void {
  const owner = parseWith(ExpectedOwnerSchema, { orgId: (expected as Record<string, unknown>)?.orgId, integrationId: (expected as Record<string, unknown>)?.integrationId });
  if (owner.orgId === undefined) return;
  if (owner.orgId !== resource.orgId || owner.integrationId !== resource.integrationId) {
    throw new HttpError(409, 'owner.mismatch', `${what} belongs to another installation`, {
      owner: { orgId: resource.orgId, integrationId: resource.integrationId },
    });
  }
}

function findTenant(ctx: EmulatorContext, tenantId: string): Tenant {
  const tenant = ctx.state.tenants.get(tenantId);
  if (!tenant) throw notFound(`No tenant ${tenantId}`);
  return tenant;
}

export function describeTenant(ctx: EmulatorContext, tenant: Tenant): Record<string, unknown> {
  const counts = ctx.state.tenantCreateCounts.get(tenant.tenantId);
  return { ...tenant, createCount: counts?.createCount ?? 0, createAttempts: counts?.createAttempts ?? 0 };
}
