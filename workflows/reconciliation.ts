/**
 * Reconciliation (lifecycle seed, Edge Case 2): run hourly by a Schedule (schedules/reconciliation.ts) and on
 * demand by `tollgate installation reconcile`. Compares what Genesys Cloud lists as installed with the
 * installation workflows, then repairs drift by synthetic events through the same signal path as webhooks:
 * installed but not provisioned (or rolled back) → `installed`; provisioned but uninstalled → `uninstalled`;
 * `deprovisioning_failed` → `uninstalled` again (or `installed`, if Genesys lists the org again);
 * enabled/disabled mismatch → `enabled` / `disabled`. The installation workflows do the work; this one only asks.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { LifecycleActivities } from '../activities/lifecycle';
import type { ReconciliationInput, ReconciliationRepair, ReconciliationSummary } from './reconciliation-messages';

const { findInstallationDrift, sendSyntheticLifecycleEvents } = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** Repairs sent per activity call: keeps each payload small even when thousands of orgs drifted. */
const BATCH = 250;

export async function reconciliationWorkflow(input: ReconciliationInput = {}): Promise<ReconciliationSummary> {
  const drift = await findInstallationDrift({ integrationId: input.integrationId });
  const repaired: ReconciliationRepair[] = [];
  const { runId } = workflowInfo();
  for (let start = 0; start < drift.repairs.length; start += BATCH) {
    const batch = drift.repairs.slice(start, start + BATCH);
    repaired.push(...(await sendSyntheticLifecycleEvents({ integrationId: drift.integrationId, runId, repairs: batch })));
  }
  return {
    integrationId: drift.integrationId,
    checked: drift.checked,
    installedInGenesys: drift.installedInGenesys,
    workflows: drift.workflows,
    repaired,
  };
}
