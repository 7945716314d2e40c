/**
 * The middleware tenant: the first resource an install creates and the one teardown deletes. Every call is
 * idempotent, because Temporal retries activities and a worker can die between the request and its answer:
 * - create: 409 means "it exists"; if that tenant belongs to this org + integration it is ours (created by an
 *   earlier attempt), otherwise the install fails without touching it (`TenantOwnedByAnotherInstallation`, naming
 *   the owner) and the foreign tenant is never adopted;
 * - every change (update, stream shutdown, delete) names the owner it expects; the middleware refuses a mismatch
 *   at the resource (409 `owner.mismatch`), so a tenant that belongs to another installation is never changed or
 *   deleted: `not_ours`, with its owner, for the workflow to alert on;
 * - delete and stream shutdown: absent is success ("already gone").
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../workflows/failures';
import { describeOwner, ownerQuery, reportedOwner, sameOwner, type DestructiveOutcome, type ResourceOwner, type TenantOwner } from './ownership';
import { joinUrl, partnerRequest, PartnerUnavailableError, type PartnerHttpOptions } from './partner-http';

export type { TenantOwner } from './ownership';

const TenantSchema = z.looseObject({
  tenantId: z.string(),
  orgId: z.string(),
  integrationId: z.string(),
  enabled: z.boolean().optional(),
  configuration: z.record(z.string(), z.unknown()).optional(),
});

export class MiddlewareTenants {
  constructor(
    private readonly baseUrl: string,
    private readonly http: PartnerHttpOptions = {},
  ) {}

  private url(parts: string[], owner?: ResourceOwner): string {
    const path = ['tenants', ...parts.map(encodeURIComponent)].join('/');
    return joinUrl(this.baseUrl, owner ? `${path}?${ownerQuery(owner)}` : path);
  }

  async create(owner: TenantOwner, configuration: Record<string, unknown>): Promise<'created' | 'existed'> {
    const response = await partnerRequest('POST', this.url([]), { ...owner, configuration }, this.http);
    if (response.status === 409) {
      const existing = await this.get(owner.tenantId);
      // Deleted between our create and our read: let the retry create it again.
      if (!existing) throw new PartnerUnavailableError(`tenant ${owner.tenantId} answered 409 and then 404`);
      if (!sameOwner(existing, owner)) {
        throw ApplicationFailure.create({
          message: `tenant ${owner.tenantId} already exists and belongs to ${describeOwner(existing)}`,
          type: FailureType.TenantOwnedByAnotherInstallation,
          nonRetryable: true,
          details: [{ ownedBy: { orgId: existing.orgId, integrationId: existing.integrationId } }],
        });
      }
      return 'existed';
    }
    if (response.status === 404) throw new PartnerUnavailableError('the middleware answered 404 to a tenant create');
    return 'created';
  }

  async get(tenantId: string): Promise<z.infer<typeof TenantSchema> | undefined> {
    const response = await partnerRequest('GET', this.url([tenantId]), undefined, this.http);
    if (response.status === 404) return undefined;
    return TenantSchema.parse(response.body);
  }

  /** Deletes the tenant only if it is `owner`'s; the middleware checks the owner atomically with the delete. */
  async delete(owner: TenantOwner): Promise<DestructiveOutcome> {
    const response = await partnerRequest('DELETE', this.url([owner.tenantId], owner), undefined, this.http);
    if (response.status === 404) return { outcome: 'already_gone' };
    if (response.status === 409) return this.notOurs(owner.tenantId, response.body);
    return { outcome: 'deleted' };
  }

  /** PATCH of `enabled` and/or `configuration`, only on `owner`'s tenant. The tenant must exist: a missing tenant
   * is drift for reconciliation to repair, not something an update can fix. */
  async update(owner: TenantOwner, patch: { enabled?: boolean; configuration?: Record<string, unknown> }): Promise<void> {
    const response = await partnerRequest('PATCH', this.url([owner.tenantId], owner), patch, this.http);
    if (response.status === 404) {
      throw ApplicationFailure.create({ message: `tenant ${owner.tenantId} does not exist`, type: FailureType.TenantMissing, nonRetryable: true });
    }
    if (response.status === 409) {
      const ownedBy = reportedOwner(response.body);
      throw ApplicationFailure.create({
        message: `tenant ${owner.tenantId} belongs to ${describeOwner(ownedBy)}`,
        type: FailureType.TenantOwnedByAnotherInstallation,
        nonRetryable: true,
        details: [{ ownedBy }],
      });
    }
  }

  /** Stops the tenant's webhooks and event streams (teardown step 2), only on `owner`'s tenant. Absent tenant:
   * nothing streams. */
  async disableStreams(owner: TenantOwner): Promise<DestructiveOutcome<'disabled'>> {
    const response = await partnerRequest('POST', this.url([owner.tenantId, 'streams', 'disable'], owner), undefined, this.http);
    if (response.status === 404) return { outcome: 'already_gone' };
    if (response.status === 409) return this.notOurs(owner.tenantId, response.body);
    return { outcome: 'disabled' };
  }

  private async notOurs(tenantId: string, body: unknown): Promise<DestructiveOutcome<never>> {
    const ownedBy = reportedOwner(body) ?? (await this.get(tenantId));
    return { outcome: 'not_ours', ...(ownedBy ? { ownedBy: { orgId: ownedBy.orgId, integrationId: ownedBy.integrationId } } : {}) };
  }
}
