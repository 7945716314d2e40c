/**
 * What activities are built from. Activities receive their clients (createActivities(deps)), so tests pass
 * real ones pointed at the emulator and nothing needs module mocking.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import type { AllowedSignersFile } from '../approvals/allowed-signers';
import type { GenesysClient } from '../genesys/client';
import type { GitHubClient } from '../github/client';
import type { AlertSender } from './alerts';

export interface ActivityDeps {
  config: Config;
  logger: Logger;
  /** Talks to other workflows (the per-target ledger, installations during reconciliation). */
  temporal: Client;
  genesys: GenesysClient;
  alerts: AlertSender;
  /** PostgreSQL for the lifecycle's schema step: DATABASE_URL or the embedded server's URL. */
  databaseUrl: string;
  /** The allowed-signers file (public keys only); undefined when SSH signatures are not accepted. */
  allowedSigners?: AllowedSignersFile;
  /** The Git host, read with the worker's own token; undefined when none is configured. */
  github?: GitHubClient;
}
