/**
 * Lifecycle activities (issue 4), built from injected clients: the provisioning saga's steps and compensations,
 * the teardown steps, tenant updates, alerts, and reconciliation. Each one is idempotent — Temporal retries
 * activities, and a worker can die after a request landed but before its answer came back.
 *
 * Partner systems (middleware tenants, CRM, audit archive) are reached over HTTP at config.lifecycle.*Url (the
 * emulator's /partner routes in sandbox mode); the schema step runs SQL on PostgreSQL at deps.databaseUrl;
 * token revocation goes through the Genesys client (and runs on the Genesys task queue).
 */
import { ApplicationFailure } from '@temporalio/common';
import { Pool } from 'pg';
import { describeInstallation, listInstallations, signalInstallation } from '../client/installations';
import { toActivityFailure } from '../genesys/errors';
import { forEachLimited } from '../platform/concurrency';
import { FailureType } from '../workflows/failures';
import type { ReconciliationRepair } from '../workflows/reconciliation-messages';
import { currentActivity, heartbeat } from './activity-context';
import { activityLogger } from './activity-logger';
import type { Alert } from './alerts';
import type { ActivityDeps } from './deps';
import type { InstallationRecord } from '../workflows/installation-messages';
import { InstallationInventory } from './installation-inventory';
import { AuditArchive } from './provisioning/audit-archive';
import { CrmConnections } from './provisioning/crm-connection';
import { TenantSchemas } from './provisioning/database-schema';
import { revokeTokens } from './provisioning/integration-tokens';
import { MiddlewareTenants } from './provisioning/middleware-tenant';
import type { DestructiveOutcome, ResourceOwner, TenantOwner } from './provisioning/ownership';
import { planRepairs, syntheticEvent, type InventoryEntry, type PlannedRepair } from './provisioning/reconciliation';

/** How many installations reconciliation queries or signals at once. */
const RECONCILE_CONCURRENCY = 16;
/** Upper bound of pooled PostgreSQL connections per worker process. */
const SCHEMA_POOL_SIZE = 8;

export function createLifecycleActivities(deps: ActivityDeps) {
  const { config, logger } = deps;
  const http = { timeoutMs: 10_000 };
  const tenants = new MiddlewareTenants(config.lifecycle.middlewareUrl, http);
  const crm = new CrmConnections(config.lifecycle.crmUrl, config.lifecycle.crmClientSecret, http);
  const archive = new AuditArchive(config.lifecycle.archiveUrl, http);

  // One pool per activities instance, opened on first use; idle connections close so processes can exit.
  let pool: Pool | undefined;
  const getPool = (): Pool => {
    if (!pool) {
      pool = new Pool({ connectionString: deps.databaseUrl, max: SCHEMA_POOL_SIZE, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
      // An idle pooled connection that the server closed (restart, shutdown): the pool replaces it on next use.
      pool.on('error', (error) =>
        logger.info({ reason: error.message, code: (error as { code?: string }).code }, 'PostgreSQL closed an idle connection'),
      );
    }
    return pool;
  };
  const schemas = new TenantSchemas(getPool);
  const inventory = new InstallationInventory(getPool);

  const log = (message: string, fields: Record<string, unknown>) => activityLogger(logger).info(fields, message);

  return {
    // --- install saga -------------------------------------------------------------------------------------

    async createMiddlewareTenant(owner: TenantOwner, configuration: Record<string, unknown>): Promise<'created' | 'existed'> {
      const outcome = await tenants.create(owner, configuration);
      log('middleware tenant provisioned', { tenantId: owner.tenantId, outcome });
      return outcome;
    },

    async createTenantSchema(owner: TenantOwner): Promise<{ schemaName: string; created: boolean }> {
      const result = await schemas.create(owner.tenantId, owner);
      log('tenant schema provisioned', { tenantId: owner.tenantId, ...result });
      return result;
    },

    async configureCrmConnection(owner: TenantOwner, crmEndpoint: string): Promise<void> {
      await crm.configure(owner, crmEndpoint);
      log('CRM connection configured', { tenantId: owner.tenantId, crmEndpoint });
    },

    // --- compensations and teardown: absent = done; someone else's = not_ours (refused, nothing changed) ----

    async deleteMiddlewareTenant(owner: TenantOwner): Promise<DestructiveOutcome> {
      const result = await tenants.delete(owner);
      log('middleware tenant removed', { tenantId: owner.tenantId, ...result });
      return result;
    },

    async dropTenantSchema(owner: TenantOwner): Promise<{ schemaName: string } & DestructiveOutcome<'dropped'>> {
      const result = await schemas.drop(owner.tenantId, owner);
      log('tenant schema dropped', { tenantId: owner.tenantId, ...result });
      return result;
    },

    async deleteCrmConnection(owner: TenantOwner): Promise<DestructiveOutcome> {
      const result = await crm.delete(owner);
      log('CRM connection removed', { tenantId: owner.tenantId, ...result });
      return result;
    },

    async revokeLifecycleTokens(integrationId: string, orgId: string): Promise<'revoked' | 'already_gone'> {
      const outcome = await revokeTokens(deps.genesys, integrationId, orgId);
      log('integration tokens revoked', { integrationId, orgId, outcome });
      return outcome;
    },

    async disableTenantStreams(owner: TenantOwner): Promise<DestructiveOutcome<'disabled'>> {
      const result = await tenants.disableStreams(owner);
      log('tenant webhooks and streams disabled', { tenantId: owner.tenantId, ...result });
      return result;
    },

    async archiveAuditRecords(owner: TenantOwner): Promise<'archived' | 'already_archived'> {
      const outcome = await archive.archive(owner);
      log('audit records archived', { tenantId: owner.tenantId, outcome });
      return outcome;
    },

    /** Who owns each resource of a tenant ID (middleware tenant, schema, CRM connection), as the resources
     * themselves report it: how the workflow names the other installation when an event points at its tenant. */
    async findTenantOwners(tenantId: string): Promise<{ tenant?: ResourceOwner; schema?: ResourceOwner; crm?: ResourceOwner }> {
      const [tenant, schema, connection] = await Promise.all([tenants.get(tenantId), schemas.owner(tenantId), crm.get(tenantId)]);
      const owner = (found: ResourceOwner | undefined) => (found ? { orgId: found.orgId, integrationId: found.integrationId } : undefined);
      return {
        ...(tenant ? { tenant: owner(tenant) } : {}),
        ...(schema ? { schema: owner(schema) } : {}),
        ...(connection ? { crm: owner(connection) } : {}),
      };
    },

    // --- updates --------------------------------------------------------------------------------------------

    async updateMiddlewareTenant(owner: TenantOwner, patch: { enabled?: boolean; configuration?: Record<string, unknown> }): Promise<void> {
      await tenants.update(owner, patch);
      log('middleware tenant updated', { tenantId: owner.tenantId, fields: Object.keys(patch) });
    },

    // --- the durable inventory -------------------------------------------------------------------------------

    /** Writes the installation's inventory row (unless a newer revision is stored). */
    async recordInstallation(record: InstallationRecord): Promise<void> {
      const taskQueue = currentActivity()?.info.taskQueue ?? config.temporal.taskQueue;
      const written = await inventory.record(record, taskQueue);
      if (!written) log('inventory write superseded by a newer revision', { orgId: record.orgId, integrationId: record.integrationId, revision: record.revision });
    },

    /** The installation's inventory row, for a fresh run to continue from. */
    async loadInstallationRecord(input: { orgId: string; integrationId: string }): Promise<InstallationRecord | undefined> {
      const row = await inventory.load(input.orgId, input.integrationId);
      if (!row) return undefined;
      const { taskQueue: _taskQueue, ...record } = row;
      return record;
    },

    async raiseLifecycleAlert(alert: Alert): Promise<void> {
      await deps.alerts.send(alert);
    },

    // --- reconciliation -----------------------------------------------------------------------------------

    /** Compares Genesys Cloud's installations with the installation workflows and returns the repairs to make. */
    async findInstallationDrift(input: { integrationId?: string }): Promise<{
      integrationId: string;
      checked: number;
      installedInGenesys: number;
      workflows: number;
      repairs: PlannedRepair[];
    }> {
      const integrationId = resolveIntegrationId(input.integrationId, config.lifecycle.integrationId);
      let installed;
      try {
        installed = await deps.genesys.listInstallations(integrationId);
      } catch (error) {
        throw toActivityFailure(error);
      }
      heartbeat('listed Genesys installations');
      const listings = await listInstallations(deps.temporal, { integrationId }, (count) => {
        if (count % 500 === 0) heartbeat(`listed ${count} installations`);
      });
      const inventory: InventoryEntry[] = listings.map((listing) => ({ orgId: listing.orgId, state: listing.state, tenantId: listing.tenantId }));
      // Visibility can lag a moment behind the workflows: confirm every candidate by query before repairing it.
      const candidates = planRepairs(integrationId, installed, inventory);
      const confirmedInventory = new Map(inventory.map((entry) => [entry.orgId, entry]));
      await forEachLimited(candidates, RECONCILE_CONCURRENCY, async (candidate) => {
        const view = await describeInstallation(deps.temporal, candidate.orgId, integrationId);
        if (view) {
          confirmedInventory.set(candidate.orgId, {
            orgId: candidate.orgId,
            state: view.state,
            tenantId: view.tenantId,
            pendingEvents: view.pendingEvents,
          });
        }
        heartbeat(`confirmed ${candidate.orgId}`);
      });
      const repairs = planRepairs(integrationId, installed, [...confirmedInventory.values()]);
      log('reconciliation compared', { integrationId, installedInGenesys: installed.length, workflows: listings.length, repairs: repairs.length });
      const checked = new Set([...installed.map((installation) => installation.orgId), ...listings.map((listing) => listing.orgId)]).size;
      return { integrationId, checked, installedInGenesys: installed.length, workflows: listings.length, repairs };
    },

    /** Sends each repair as a synthetic event through the same signal-with-start path as the webhooks. */
    async sendSyntheticLifecycleEvents(input: { integrationId: string; runId: string; repairs: PlannedRepair[] }): Promise<ReconciliationRepair[]> {
      const taskQueue = currentActivity()?.info.taskQueue ?? config.temporal.taskQueue;
      const now = new Date();
      const sent: ReconciliationRepair[] = [];
      await forEachLimited(input.repairs, RECONCILE_CONCURRENCY, async (repair) => {
        await signalInstallation(deps.temporal, taskQueue, syntheticEvent(repair, input.integrationId, input.runId, now));
        sent.push({ orgId: repair.orgId, event: repair.event, reason: repair.reason, ...(repair.workflowState ? { workflowState: repair.workflowState } : {}) });
        heartbeat(`sent ${sent.length}`);
      });
      log('reconciliation repairs sent', { integrationId: input.integrationId, repairs: sent.length });
      return sent;
    },
  };
}

export type LifecycleActivities = ReturnType<typeof createLifecycleActivities>;

function resolveIntegrationId(given: string | undefined, configured: string | undefined): string {
  const integrationId = given ?? configured;
  if (!integrationId) {
    throw ApplicationFailure.create({
      message: 'no integration to reconcile: set TOLLGATE_INTEGRATION_ID',
      type: FailureType.NoIntegrationConfigured,
      nonRetryable: true,
    });
  }
  return integrationId;
}
