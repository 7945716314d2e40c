/**
 * Reconciliation (lifecycle seed, Edge Case 2: "a reconciliation job that runs hourly to compare Genesys Cloud
 * integration states against your backend resource inventory and force alignment for any drifted records").
 *
 * Truth is what Genesys Cloud lists as installed; the backend side is the installation workflows and, where a
 * workflow is gone (terminated, lost), the durable inventory (`tollgate.installations`). Drift is repaired by
 * synthetic events sent through the same signal path as webhooks (client/installations.ts), so the workflow
 * applies them with the same rules, one at a time, after anything already queued.
 *
 * Synthetic events carry no sequence, and as `eventTimestamp` the time the listing was observed (taken before it
 * was requested): what Genesys Cloud reported then is newer than any tombstone it left earlier, so a synthetic
 * install provisions an org whose install webhook was lost after an uninstall — but an uninstall that happens
 * after the listing was taken is newer than the synthetic install and wins (issue 9: stamping the send time let
 * such a synthetic install overtake the uninstall and bring the tenant back).
 *
 * Reconciliation cannot do harm: a run that would deprovision more than a configured share of an integration's
 * active installations (default 10 %, and never all of more than 3) holds every uninstall, raises an alert and
 * waits for `tollgate installation reconcile --confirm` — a listing that suddenly comes back empty (an emptied
 * sandbox, an API glitch) must not tear everything down.
 */
import type { GenesysInstallation } from '../../genesys/client';
import type { InstallationEvent, InstallationStateName, LifecycleEventName } from '../../workflows/installation-messages';
import type { ReconciliationRepair } from '../../workflows/reconciliation-messages';
import { isInstallationId } from '../../workflows/workflow-ids';

/** What the backend says about one org: its workflow's state, else its inventory row's. */
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
  /** Milliseconds after the observation time: orders a follow-up (disable after install) after its install. */
  orderOffsetMs?: number;
}

/** States in which an org that Genesys Cloud lists as installed has no working tenant. */
const NEEDS_INSTALL: readonly string[] = ['pending_install', 'provisioning_rolled_back', 'deprovisioned', 'deprovisioning_failed', 'unknown'];
/** States in which an org that Genesys Cloud no longer lists still holds resources. */
const NEEDS_UNINSTALL: readonly string[] = ['active', 'disabled', 'deprovisioning_failed'];
/** In flight: the workflow is working on it now. */
const BUSY: readonly string[] = ['provisioning', 'deprovisioning'];
/** Provisioned and working: what the deprovisioning guard counts. */
export const ACTIVE_STATES: readonly string[] = ['active', 'disabled'];

/** Pure comparison of Genesys Cloud's list with the backend's view. Orgs and tenants whose IDs break the ID
 * grammar are never acted on (their events would be refused at the signal anyway). */
export function planRepairs(integrationId: string, installed: GenesysInstallation[], inventory: InventoryEntry[]): PlannedRepair[] {
  const byOrg = new Map(inventory.map((entry) => [entry.orgId, entry]));
  const inGenesys = new Set<string>();
  const repairs: PlannedRepair[] = [];
  const repair = (
    entry: InventoryEntry | undefined,
    orgId: string,
    event: LifecycleEventName,
    reason: string,
    tenantId: string | undefined,
    configuration: Record<string, unknown>,
    orderOffsetMs?: number,
  ) => {
    // Without a valid tenant ID there is nothing to provision or tear down; the next webhook says.
    if (!tenantId || !isInstallationId(tenantId) || !isInstallationId(orgId)) return;
    repairs.push({
      integrationId,
      orgId,
      event,
      reason,
      tenantId,
      configuration,
      ...(orderOffsetMs ? { orderOffsetMs } : {}),
      ...(entry && entry.state !== 'unknown' ? { workflowState: entry.state } : {}),
    });
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
      // Installed but switched off in Genesys Cloud: provision, then disable (ordered just after the install).
      if (installation.status === 'disabled') repair(entry, installation.orgId, 'disabled', `${reason}; disabled there`, tenantId, configuration, 1);
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

/**
 * Why a plan must wait for confirmation, or undefined when it may run: it would deprovision more than `maxShare`
 * of the `active` installations (at least one is always allowed), or all of more than three.
 */
export function deprovisionHold(uninstallsOfActive: number, active: number, maxShare: number): string | undefined {
  if (uninstallsOfActive === 0) return undefined;
  if (active > 3 && uninstallsOfActive >= active) {
    return `it would deprovision all ${active} active installations`;
  }
  const allowed = Math.max(1, Math.floor(maxShare * active));
  if (uninstallsOfActive > allowed) {
    return `it would deprovision ${uninstallsOfActive} of ${active} active installations (more than ${Math.round(maxShare * 1000) / 10} %; at most ${allowed} without --confirm)`;
  }
  return undefined;
}

/** The synthetic event for a repair. Its identity is unique to this reconciliation run, org and event; its time is
 * when the listing was observed (plus the repair's offset), never when it is sent. */
export function syntheticEvent(repair: PlannedRepair, runId: string, observedAt: Date, now: Date): InstallationEvent {
  return {
    identity: `reconcile:${runId}:${repair.orgId}:${repair.event}`,
    event: repair.event,
    orgId: repair.orgId,
    integrationId: repair.integrationId,
    tenantId: repair.tenantId,
    configuration: repair.configuration,
    eventTimestamp: new Date(observedAt.getTime() + (repair.orderOffsetMs ?? 0)).toISOString(),
    receivedAt: now.toISOString(),
    source: 'reconciliation',
  };
}
