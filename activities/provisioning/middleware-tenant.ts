/**
 * The middleware tenant: the first resource an install creates and the one teardown deletes. Every call is
 * idempotent, because Temporal retries activities and a worker can die between the request and its answer:
 * - create: 409 means "it exists"; if that tenant belongs to this org + integration it is ours (created by an
 *   earlier attempt), otherwise the install fails without touching it;
 * - delete: absent is success ("already gone"), and a tenant that belongs to another installation is never
 *   deleted (a compensation registered before a refused create must not remove someone else's tenant).
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../workflows/failures';
import { joinUrl, partnerRequest, PartnerUnavailableError, type PartnerHttpOptions } from './partner-http';

export interface TenantOwner {
  tenantId: string;
  orgId: string;
  integrationId: string;
}

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

  private url(...parts: string[]): string {
    return joinUrl(this.baseUrl, ['tenants', ...parts.map(encodeURIComponent)].join('/'));
  }

  async create(owner: TenantOwner, configuration: Record<string, unknown>): Promise<'created' | 'existed'> {
    const response = await partnerRequest('POST', this.url(), { ...owner, configuration }, this.http);
    if (response.status === 409) {
      const existing = await this.get(owner.tenantId);
      // Deleted between our create and our read: let the retry create it again.
      if (!existing) throw new PartnerUnavailableError(`tenant ${owner.tenantId} answered 409 and then 404`);
      if (!sameOwner(existing, owner)) {
        throw ApplicationFailure.create({
          message: `tenant ${owner.tenantId} already exists for another installation (${existing.orgId})`,
          type: FailureType.TenantOwnedByAnotherInstallation,
          nonRetryable: true,
        });
      }
      return 'existed';
    }
    if (response.status === 404) throw new PartnerUnavailableError('the middleware answered 404 to a tenant create');
    return 'created';
  }

  async get(tenantId: string): Promise<z.infer<typeof TenantSchema> | undefined> {
    const response = await partnerRequest('GET', this.url(tenantId), undefined, this.http);
    if (response.status === 404) return undefined;
    return TenantSchema.parse(response.body);
  }

  async delete(owner: TenantOwner): Promise<'deleted' | 'already_gone' | 'not_ours'> {
    const existing = await this.get(owner.tenantId);
    if (!existing) return 'already_gone';
    if (!sameOwner(existing, owner)) return 'not_ours';
    const response = await partnerRequest('DELETE', this.url(owner.tenantId), undefined, this.http);
    return response.status === 404 ? 'already_gone' : 'deleted';
  }

  /** PATCH of `enabled` and/or `configuration`. The tenant must exist: a missing tenant is drift for
   * reconciliation to repair, not something an update can fix. */
  async update(tenantId: string, patch: { enabled?: boolean; configuration?: Record<string, unknown> }): Promise<void> {
    const response = await partnerRequest('PATCH', this.url(tenantId), patch, this.http);
    if (response.status === 404) {
      throw ApplicationFailure.create({ message: `tenant ${tenantId} does not exist`, type: FailureType.TenantMissing, nonRetryable: true });
    }
  }

  /** Stops the tenant's webhooks and event streams (teardown step 2). Absent tenant: nothing streams. */
  async disableStreams(tenantId: string): Promise<'disabled' | 'already_gone'> {
    const response = await partnerRequest('POST', this.url(tenantId, 'streams', 'disable'), undefined, this.http);
    return response.status === 404 ? 'already_gone' : 'disabled';
  }
}

function sameOwner(existing: { orgId: string; integrationId: string }, owner: TenantOwner): boolean {
  return existing.orgId === owner.orgId && existing.integrationId === owner.integrationId;
}
