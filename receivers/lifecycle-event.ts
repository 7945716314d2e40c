/**
 * A lifecycle webhook's payload (lifecycle seed, section 3) and its identity.
 *
 * Identity (lifecycle seed, Edge Case 3 and the "idempotency keyed on integrationId" trap): the event's `eventId`
 * when Genesys sent one; otherwise the SHA-256 of the canonical JSON of its stable core — event, orgId,
 * integrationId, tenantId, configuration and metadata — without the fields a retry changes: `retryCount`,
 * `deliveryAttempt`, `eventTimestamp`, and any metadata key named like retry / attempt / delivery. Never
 * integrationId alone (install, enable and configuration updates of one integration are distinct events), never
 * integrationId + eventTimestamp (the timestamp drifts on every retry).
 *
 * Decision: `metadata.sequence`, Genesys' per-installation counter, is part of the core. It is stable across
 * retries and differs between genuine events, so a real re-install with the same configuration as an earlier
 * install is a new event and provisions again; without it, two such installs would hash alike and the second
 * would be taken for a duplicate (hourly reconciliation would then repair it).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../workflows/canonical-json';
import { LIFECYCLE_EVENTS, type EventSource, type InstallationEvent } from '../workflows/installation-messages';
import { installationIdProblem } from '../workflows/workflow-ids';

/** Org, integration and tenant IDs follow the installation ID grammar (workflows/workflow-ids.ts): they become
 * workflow IDs, visibility queries, CLI addresses and partner URLs. A violation is a 400 naming the reason, before
 * any workflow is touched. */
const Id = z.string().superRefine((text, ctx) => {
  const problem = installationIdProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const LifecyclePayloadSchema = z.looseObject({
  eventId: z.string().min(1).max(200).optional(),
  event: z.enum(LIFECYCLE_EVENTS),
  integrationId: Id,
  orgId: Id,
  tenantId: Id,
  configuration: z.record(z.string(), z.unknown()).default({}),
  eventTimestamp: z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'must be an ISO 8601 timestamp'),
  metadata: z.record(z.string(), z.unknown()).default({}),
  retryCount: z.number().optional(),
  deliveryAttempt: z.number().optional(),
});
export type LifecyclePayload = z.infer<typeof LifecyclePayloadSchema>;

/** Metadata keys a redelivery may add or change. */
const VOLATILE_METADATA_KEY = /retry|attempt|deliver/i;

/** The part of an event that every redelivery of it shares. */
export function stableCore(payload: LifecyclePayload): Record<string, unknown> {
  const metadata = Object.fromEntries(Object.entries(payload.metadata).filter(([key]) => !VOLATILE_METADATA_KEY.test(key)));
  return {
    event: payload.event,
    orgId: payload.orgId,
    integrationId: payload.integrationId,
    tenantId: payload.tenantId,
    configuration: payload.configuration,
    metadata,
  };
}

export function eventIdentity(payload: LifecyclePayload): string {
  if (payload.eventId) return `event:${payload.eventId}`;
  return `sha256:${createHash('sha256').update(canonicalJson(stableCore(payload))).digest('hex')}`;
}

function sequenceOf(payload: LifecyclePayload): number | undefined {
  const sequence = payload.metadata.sequence;
  return typeof sequence === 'number' && Number.isFinite(sequence) ? sequence : undefined;
}

/** What the installation workflow receives: the identified event, without delivery metadata. The installer's
 * `configuration` goes into the workflow's history as sent (the middleware tenant is configured from it): it must
 * carry no secret — the CRM client secret is the worker's own setting (CRM_CLIENT_SECRET), never an event field. */
export function toInstallationEvent(payload: LifecyclePayload, receivedAt: Date, source: EventSource = 'webhook'): InstallationEvent {
  const sequence = sequenceOf(payload);
  return {
    identity: eventIdentity(payload),
    event: payload.event,
    orgId: payload.orgId,
    integrationId: payload.integrationId,
    tenantId: payload.tenantId,
    configuration: payload.configuration,
    eventTimestamp: payload.eventTimestamp,
    ...(sequence === undefined ? {} : { sequence }),
    receivedAt: receivedAt.toISOString(),
    source,
  };
}
