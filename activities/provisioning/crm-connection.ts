/**
 * The tenant's CRM connection. The worker holds the CRM OAuth client secret (CRM_CLIENT_SECRET) and sends it
 * here; it never appears in workflow input, history or logs.
 *
 * A 401 means the CRM refused the secret (the lifecycle seed's Edge Case 2): retrying with the same secret cannot
 * help, so it is a non-retryable `CrmSecretRejected` and the install saga compensates at once. After an operator
 * fixes the secret, reconciliation retries the install.
 *
 * Each connection records its owner (org + integration). Configuring someone else's connection is a
 * non-retryable `CrmConnectionOwnedByAnotherInstallation`; deleting it is refused at the CRM (409
 * `owner.mismatch`) and answered `not_ours` with the owner, never done.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../workflows/failures';
import { describeOwner, ownerQuery, reportedOwner, type DestructiveOutcome, type ResourceOwner, type TenantOwner } from './ownership';
import { joinUrl, partnerRequest, type PartnerHttpOptions } from './partner-http';

const ConnectionSchema = z.looseObject({ tenantId: z.string(), orgId: z.string(), integrationId: z.string(), crmEndpoint: z.string() });

export class CrmConnections {
  constructor(
    private readonly baseUrl: string,
    private readonly clientSecret: string | undefined,
    private readonly http: PartnerHttpOptions = {},
  ) {}

  private url(tenantId: string, owner?: ResourceOwner): string {
    const path = `connections/${encodeURIComponent(tenantId)}`;
    return joinUrl(this.baseUrl, owner ? `${path}?${ownerQuery(owner)}` : path);
  }

  /** PUT is idempotent: configuring twice leaves one connection; configuring again with another endpoint
   * re-points it. */
  async configure(owner: TenantOwner, crmEndpoint: string): Promise<void> {
    if (!this.clientSecret) {
      throw ApplicationFailure.create({
        message: 'no CRM client secret is configured (CRM_CLIENT_SECRET)',
        type: FailureType.CrmSecretMissing,
        nonRetryable: true,
      });
    }
    const response = await partnerRequest(
      'PUT',
      this.url(owner.tenantId),
      { crmEndpoint, clientSecret: this.clientSecret, orgId: owner.orgId, integrationId: owner.integrationId },
      { ...this.http, passUnauthorized: true },
    );
    if (response.status === 401) {
      throw ApplicationFailure.create({
        message: `the CRM refused the client secret for tenant ${owner.tenantId}`,
        type: FailureType.CrmSecretRejected,
        nonRetryable: true,
      });
    }
    if (response.status === 409) {
      const ownedBy = reportedOwner(response.body);
      throw ApplicationFailure.create({
        message: `the CRM connection of tenant ${owner.tenantId} belongs to ${describeOwner(ownedBy)}`,
        type: FailureType.CrmConnectionOwnedByAnotherInstallation,
        nonRetryable: true,
        details: [{ ownedBy }],
      });
    }
    if (response.status === 404) {
      throw ApplicationFailure.create({
        message: `the CRM answered 404 configuring tenant ${owner.tenantId}`,
        type: FailureType.PartnerRequestRejected,
        nonRetryable: true,
      });
    }
  }

  async get(tenantId: string): Promise<z.infer<typeof ConnectionSchema> | undefined> {
    const response = await partnerRequest('GET', this.url(tenantId), undefined, this.http);
    if (response.status === 404) return undefined;
    return ConnectionSchema.parse(response.body);
  }

  /** Deletes the connection only if it is `owner`'s; absent is success. */
  async delete(owner: TenantOwner): Promise<DestructiveOutcome> {
    const response = await partnerRequest('DELETE', this.url(owner.tenantId, owner), undefined, this.http);
    if (response.status === 404) return { outcome: 'already_gone' };
    if (response.status === 409) {
      const ownedBy = reportedOwner(response.body) ?? (await this.get(owner.tenantId));
      return { outcome: 'not_ours', ...(ownedBy ? { ownedBy: { orgId: ownedBy.orgId, integrationId: ownedBy.integrationId } } : {}) };
    }
    return { outcome: 'deleted' };
  }
}
