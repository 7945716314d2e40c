/** The last teardown step: archive the installation's audit records. Idempotent per org + integration + tenant
 * (the archive answers 200 for one that exists). */
import { joinUrl, partnerRequest, type PartnerHttpOptions } from './partner-http';

export class AuditArchive {
  constructor(
    private readonly baseUrl: string,
    private readonly http: PartnerHttpOptions = {},
  ) {}

  async archive(record: { orgId: string; integrationId: string; tenantId: string }): Promise<'archived' | 'already_archived'> {
    const response = await partnerRequest('POST', joinUrl(this.baseUrl, 'archives'), record, this.http);
    if (response.status === 404 || response.status === 409) return 'already_archived';
    return response.status === 201 ? 'archived' : 'already_archived';
  }
}
