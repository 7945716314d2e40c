/** The last teardown step: archive the installation's audit records. Idempotent per org + integration + tenant
 * (the archive answers 200 for one that exists). */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/failures';
import { joinUrl, partnerRequest, type PartnerHttpOptions } from './partner-http';

export class AuditArchive {
  constructor(
    private readonly baseUrl: string,
    private readonly http: PartnerHttpOptions = {},
  ) {}

  async archive(record: { orgId: string; integrationId: string; tenantId: string }): Promise<'archived' | 'already_archived'> {
    const response = await partnerRequest('POST', joinUrl(this.baseUrl, 'archives'), record, this.http);
    if (response.status === 404) {
      throw ApplicationFailure.create({ message: 'the audit archive answered 404', type: FailureType.PartnerRequestRejected, nonRetryable: true });
    }
    return response.status === 201 ? 'archived' : 'already_archived';
  }
}
