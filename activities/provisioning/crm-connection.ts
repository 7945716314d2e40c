/**
 * The tenant's CRM connection. The worker holds the CRM OAuth client secret (CRM_CLIENT_SECRET) and sends it
 * here; it never appears in workflow input, history or logs.
 *
 * A 401 means the CRM refused the secret (the lifecycle seed's Edge Case 2): retrying with the same secret cannot
 * help, so it is a non-retryable `CrmSecretRejected` and the install saga compensates at once. After an operator
 * fixes the secret, reconciliation retries the install.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/failures';
import { joinUrl, partnerRequest, type PartnerHttpOptions } from './partner-http';

export class CrmConnections {
  constructor(
    private readonly baseUrl: string,
    private readonly clientSecret: string | undefined,
    private readonly http: PartnerHttpOptions = {},
  ) {}

  private url(tenantId: string): string {
    return joinUrl(this.baseUrl, `connections/${encodeURIComponent(tenantId)}`);
  }

  /** PUT is idempotent: configuring twice leaves one connection. */
  async configure(tenantId: string, crmEndpoint: string): Promise<void> {
    if (!this.clientSecret) {
      throw ApplicationFailure.create({
        message: 'no CRM client secret is configured (CRM_CLIENT_SECRET)',
        type: FailureType.CrmSecretMissing,
        nonRetryable: true,
      });
    }
    const response = await partnerRequest(
      'PUT',
      this.url(tenantId),
      { crmEndpoint, clientSecret: this.clientSecret },
      { ...this.http, passUnauthorized: true },
    );
    if (response.status === 401) {
      throw ApplicationFailure.create({
        message: `the CRM refused the client secret for tenant ${tenantId}`,
        type: FailureType.CrmSecretRejected,
        nonRetryable: true,
      });
    }
    if (response.status === 404 || response.status === 409) {
      throw ApplicationFailure.create({
        message: `the CRM answered ${response.status} configuring tenant ${tenantId}`,
        type: FailureType.PartnerRequestRejected,
        nonRetryable: true,
      });
    }
  }

  async delete(tenantId: string): Promise<'deleted' | 'already_gone'> {
    const response = await partnerRequest('DELETE', this.url(tenantId), undefined, this.http);
    return response.status === 404 ? 'already_gone' : 'deleted';
  }
}
