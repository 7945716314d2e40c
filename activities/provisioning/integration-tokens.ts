/** Teardown step 1: revoke the org's integration tokens in Genesys Cloud, so it can make no further calls.
 * Runs on the Genesys task queue (rate-limited cluster-wide). Nothing to revoke is success. */
import type { GenesysClient } from '../../genesys/client';
import { toActivityFailure } from '../../genesys/errors';

export async function revokeTokens(genesys: GenesysClient, integrationId: string, orgId: string): Promise<'revoked' | 'already_gone'> {
  try {
    return await genesys.revokeIntegrationTokens(integrationId, orgId);
  } catch (error) {
    throw toActivityFailure(error);
  }
}
