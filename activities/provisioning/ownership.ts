/**
 * Who owns a provisioned resource, and what a destructive step did about it. Every teardown and compensation step
 * checks the owner at the resource itself (the middleware tenant's owner, the schema's `tenant_info` row, the CRM
 * connection's owner) and acts only when it is this installation's; otherwise it answers `not_ours` with the
 * owner it found, and the workflow raises an alert naming both installations (issue 9: one org's uninstall once
 * destroyed another org's resources).
 */

/** The installation that owns a resource: org + integration (the workflow's identity). */
export interface ResourceOwner {
  orgId: string;
  integrationId: string;
}

/** A resource of one tenant, as an installation addresses it. */
export interface TenantOwner extends ResourceOwner {
  tenantId: string;
}

/** What a destructive step did: `not_ours` is a refusal (nothing changed), never a success. */
export interface DestructiveOutcome<Done extends string = 'deleted'> {
  outcome: Done | 'already_gone' | 'not_ours';
  /** Set with `not_ours`: whose the resource is. */
  ownedBy?: ResourceOwner;
}

export function sameOwner(existing: ResourceOwner, owner: ResourceOwner): boolean {
  return existing.orgId === owner.orgId && existing.integrationId === owner.integrationId;
}

/** `?orgId=…&integrationId=…`: the owner a partner call expects; the partner refuses with 409 on a mismatch. */
export function ownerQuery(owner: ResourceOwner): string {
  return `orgId=${encodeURIComponent(owner.orgId)}&integrationId=${encodeURIComponent(owner.integrationId)}`;
}

/** The owner a partner reported in a 409 `owner.mismatch` answer, if it did. */
export function reportedOwner(body: unknown): ResourceOwner | undefined {
  const owner = (body as { owner?: { orgId?: unknown; integrationId?: unknown } } | undefined)?.owner;
  return typeof owner?.orgId === 'string' && typeof owner.integrationId === 'string'
    ? { orgId: owner.orgId, integrationId: owner.integrationId }
    : undefined;
}

export function describeOwner(owner: ResourceOwner | undefined): string {
  return owner ? `installation ${owner.orgId}/${owner.integrationId}` : 'another installation';
}
