/**
 * Lifecycle activities (issue 4), built from injected clients: the provisioning saga's steps and compensations,
 * the teardown steps, tenant updates, alerts, and reconciliation. Each one is idempotent — Temporal retries
 * activities, and a worker can die after a request landed but before its answer came back.
 *
 * Partner systems (middleware tenants, CRM, audit archive) are reached over HTTP at config.lifecycle.*Url (the
 * emulator's /partner routes in sandbox mode); the schema step runs SQL on PostgreSQL at deps.databaseUrl;
 * token revocation goes through the Genesys client (and runs on the Genesys task queue).
 */
import { Pool } from 'pg';
import { describeInstallation, listInstallations, signalInstallation } from '../client/installations';
import { toActivityFailure } from '../genesys/errors';
import { forEachLimited } from '../platform/concurrency';
import { isInstallationId } from '../workflows/workflow-ids';
import type { IntegrationReconciliation, ReconciliationRepair } from '../workflows/reconciliation-messages';
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
import { ACTIVE_STATES, deprovisionHold, planRepairs, syntheticEvent, type InventoryEntry, type PlannedRepair } from './provisioning/reconciliation';

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

    /** The integrations reconciliation covers when it is not given one: every integration with installations
     * whose workflows run on this task queue (from the inventory), and the configured TOLLGATE_INTEGRATION_ID. */
    async listReconciledIntegrations(): Promise<string[]> {
      const taskQueue = currentActivity()?.info.taskQueue ?? config.temporal.taskQueue;
      const fromInventory = await inventory.integrations(taskQueue);
      const configured = config.lifecycle.integrationId ? [config.lifecycle.integrationId] : [];
      return [...new Set([...configured, ...fromInventory])].filter(isInstallationId).sort();
    },

    /**
     * Compares what Genesys Cloud lists for one integration with the installation workflows and the inventory,
     * and returns the repairs to make, the time the listing was observed (taken before it was requested), and
     * whether the deprovisioning guard holds the uninstalls back.
     */
    async findInstallationDrift(input: { integrationId: string; confirmDeprovision?: boolean }): Promise<IntegrationDrift> {
      const { integrationId } = input;
      const observedAt = new Date();
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
      const rows = await inventory.list(integrationId);
      heartbeat('read the inventory');
      // The workflows' view first; an inventory row stands in for a workflow that is gone (terminated, lost).
      const backend = new Map<string, InventoryEntry>();
      for (const row of rows) backend.set(row.orgId, { orgId: row.orgId, state: row.state, tenantId: row.tenantId });
      for (const listing of listings) {
        backend.set(listing.orgId, { orgId: listing.orgId, state: listing.state, tenantId: listing.tenantId ?? backend.get(listing.orgId)?.tenantId });
      }
      // Visibility can lag a moment behind the workflows: confirm every candidate by query before repairing it.
      const candidates = planRepairs(integrationId, installed, [...backend.values()]);
      await forEachLimited(candidates, RECONCILE_CONCURRENCY, async (candidate) => {
        const view = await describeInstallation(deps.temporal, candidate.orgId, integrationId);
        if (view) {
          backend.set(candidate.orgId, { orgId: candidate.orgId, state: view.state, tenantId: view.tenantId, pendingEvents: view.pendingEvents });
        }
        heartbeat(`confirmed ${candidate.orgId}`);
      });
      const entries = [...backend.values()];
      const repairs = planRepairs(integrationId, installed, entries);
      const activeInstallations = entries.filter((entry) => ACTIVE_STATES.includes(entry.state)).length;
      const uninstallsOfActive = repairs.filter((repair) => repair.event === 'uninstalled' && ACTIVE_STATES.includes(repair.workflowState ?? '')).length;
      const holdReason = input.confirmDeprovision ? undefined : deprovisionHold(uninstallsOfActive, activeInstallations, config.lifecycle.maxDeprovisionShare);
      const checked = new Set([...installed.map((installation) => installation.orgId), ...entries.map((entry) => entry.orgId)]).size;
      log('reconciliation compared', {
        integrationId,
        installedInGenesys: installed.length,
        workflows: listings.length,
        inventory: rows.length,
        repairs: repairs.length,
        ...(holdReason ? { holdReason } : {}),
      });
      return {
        integrationId,
        observedAt: observedAt.toISOString(),
        checked,
        installedInGenesys: installed.length,
        workflows: listings.length,
        inventory: rows.length,
        activeInstallations,
        repairs,
        ...(holdReason ? { holdReason } : {}),
      };
    },

    /** Sends each repair as a synthetic event through the same signal-with-start path as the webhooks, stamped
     * with the time the listing was observed. */
    async sendSyntheticLifecycleEvents(input: { runId: string; observedAt: string; repairs: PlannedRepair[] }): Promise<ReconciliationRepair[]> {
      const taskQueue = currentActivity()?.info.taskQueue ?? config.temporal.taskQueue;
      const observedAt = new Date(input.observedAt);
      const sent: ReconciliationRepair[] = [];
      await forEachLimited(input.repairs, RECONCILE_CONCURRENCY, async (repair) => {
        await signalInstallation(deps.temporal, taskQueue, syntheticEvent(repair, input.runId, observedAt, new Date()));
        sent.push(describeRepair(repair));
        heartbeat(`sent ${sent.length}`);
      });
      log('reconciliation repairs sent', { repairs: sent.length });
      return sent;
    },
  };
}

/** What findInstallationDrift found for one integration: the summary's counts, with the repairs still to send. */
export type IntegrationDrift = Omit<IntegrationReconciliation, 'repaired' | 'held' | 'heldReason'> & {
  repairs: PlannedRepair[];
  /** Set when the deprovisioning guard holds the uninstalls back. */
  holdReason?: string;
};

/** A repair as the summary shows it (without the configuration it carries). */
export function describeRepair(repair: PlannedRepair): ReconciliationRepair {
  return {
    integrationId: repair.integrationId,
    orgId: repair.orgId,
    event: repair.event,
    reason: repair.reason,
    ...(repair.workflowState ? { workflowState: repair.workflowState } : {}),
  };
}

export type LifecycleActivities = ReturnType<typeof createLifecycleActivities>;
