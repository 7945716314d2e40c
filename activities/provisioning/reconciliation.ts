/**
 * Reconciliation (lifecycle seed, Edge Case 2: "a reconciliation job that runs hourly to compare Genesys Cloud
 * integration states against your backend resource inventory and force alignment for any drifted records").
 *
 * Truth is what Genesys Cloud lists as installed; the inventory is the installation workflows' states. Drift is
 * repaired by synthetic events sent through the same signal path as webhooks (client/installations.ts), so
 * the workflow applies them with the same rules, one at a time, after anything already queued.
 *
 * Synthetic events carry no sequence and the reconciliation's own clock as eventTimestamp: Genesys Cloud saying
 * "installed" now is newer than any tombstone it left earlier, so a synthetic install provisions an org whose
 * install webhook was lost after an uninstall, and is never mistaken for a stale one.
 */
import type { GenesysInstallation } from '../../genesys/client';
import type { InstallationEvent, InstallationStateName, LifecycleEventName } from '../../workflows/installation-messages';
import type { ReconciliationRepair } from '../../workflows/reconciliation-messages';

/** What the inventory says about one org. */
export interface InventoryEntry {
  orgId: string;
  state: InstallationStateName | 'unknown';
  tenantId?: string;
  /** Events received and not yet applied: the installation is busy, leave it alone this round. */
  pendingEvents?: number;
}

/** A repair: the synthetic event to send, and why. */
export interface PlannedRepair extends ReconciliationRepair {
  tenantId: string;
  configuration: Record<string, unknown>;
}

/** States in which an org that Genesys Cloud lists as installed has no working tenant. */
const NEEDS_INSTALL: readonly string[] = ['pending_install', 'provisioning_rolled_back', 'deprovisioned', 'deprovisioning_failed', 'unknown'];
/** States in which an org that Genesys Cloud no longer lists still holds resources. */
const NEEDS_UNINSTALL: readonly string[] = ['active', 'disabled', 'deprovisioning_failed'];
/** In flight: the workflow is working on it now. */
const BUSY: readonly string[] = ['provisioning', 'deprovisioning'];

/** Pure comparison of Genesys Cloud's list with the inventory. */
export function planRepairs(integrationId: string, installed: GenesysInstallation[], inventory: InventoryEntry[]): PlannedRepair[] {
  const byOrg = new Map(inventory.map((entry) => [entry.orgId, entry]));
  const inGenesys = new Set<string>();
  const repairs: PlannedRepair[] = [];
  const repair = (entry: InventoryEntry | undefined, orgId: string, event: LifecycleEventName, reason: string, tenantId: string | undefined, configuration: Record<string, unknown>) => {
    if (!tenantId) return; // without a tenant ID there is nothing to provision or tear down; the next webhook says
    repairs.push({ orgId, event, reason, tenantId, configuration, ...(entry && entry.state !== 'unknown' ? { workflowState: entry.state } : {}) });
  };

  for (const installation of installed) {
    if (installation.integrationId !== integrationId) continue;
    inGenesys.add(installation.orgId);
    const entry = byOrg.get(installation.orgId);
    if (entry && ((entry.pendingEvents ?? 0) > 0 || BUSY.includes(entry.state))) continue;
    const tenantId = installation.tenantId ?? entry?.tenantId;
    const configuration = installation.configuration ?? {};
    if (!entry || NEEDS_INSTALL.includes(entry.state)) {
      const reason = entry ? `installed in Genesys Cloud, installation is ${entry.state}` : 'installed in Genesys Cloud, never provisioned';
      repair(entry, installation.orgId, 'installed', reason, tenantId, configuration);
      // Installed but switched off in Genesys Cloud: provision, then disable (applied in this order).
      if (installation.status === 'disabled') repair(entry, installation.orgId, 'disabled', `${reason}; disabled there`, tenantId, configuration);
    } else if (installation.status === 'installed' && entry.state === 'disabled') {
      repair(entry, installation.orgId, 'enabled', 'enabled in Genesys Cloud, tenant disabled', tenantId, configuration);
    } else if (installation.status === 'disabled' && entry.state === 'active') {
      repair(entry, installation.orgId, 'disabled', 'disabled in Genesys Cloud, tenant active', tenantId, configuration);
    }
  }
  for (const entry of inventory) {
    if (inGenesys.has(entry.orgId)) continue;
    if ((entry.pendingEvents ?? 0) > 0 || BUSY.includes(entry.state)) continue;
    if (NEEDS_UNINSTALL.includes(entry.state)) {
      repair(entry, entry.orgId, 'uninstalled', `not installed in Genesys Cloud, installation is ${entry.state}`, entry.tenantId, {});
    }
  }
  return repairs;
}

/** The synthetic event for a repair. Its identity is unique to this reconciliation run, org and event. */
export function syntheticEvent(repair: PlannedRepair, integrationId: string, runId: string, now: Date): InstallationEvent {
  return {
    identity: `reconcile:${runId}:${repair.orgId}:${repair.event}`,
    event: repair.event,
    orgId: repair.orgId,
    integrationId,
    tenantId: repair.tenantId,
    configuration: repair.configuration,
    eventTimestamp: now.toISOString(),
    receivedAt: now.toISOString(),
    source: 'reconciliation',
  };
}
