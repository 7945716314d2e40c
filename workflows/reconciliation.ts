/**
 * Reconciliation (lifecycle seed, Edge Case 2): run hourly by a Schedule (schedules/reconciliation.ts) and on
 * demand by `tollgate installation reconcile`. For every integration with installations (or the one it is given),
 * compares what Genesys Cloud lists as installed with the installation workflows and the durable inventory, then
 * repairs drift by synthetic events through the same signal path as webhooks: installed but not provisioned (or
 * rolled back) → `installed`; provisioned but uninstalled → `uninstalled`; `deprovisioning_failed` → `uninstalled`
 * again (or `installed`, if Genesys lists the org again); enabled/disabled mismatch → `enabled` / `disabled`.
 * The installation workflows do the work; this one only asks.
 *
 * It cannot do harm (issue 9): synthetic events carry the time the listing was observed, so anything that happened
 * after the listing wins; and when an integration's plan would deprovision more than the configured share of its
 * active installations, every uninstall of that integration is held, an alert goes out, and nothing destructive
 * happens until an operator runs `tollgate installation reconcile --confirm`.
 */
import { log, proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { LifecycleActivities } from '../activities/lifecycle';
import { describeFailure } from './failures';
import type { IntegrationReconciliation, ReconciliationInput, ReconciliationRepair, ReconciliationSummary } from './reconciliation-messages';

const { findInstallationDrift, listReconciledIntegrations, sendSyntheticLifecycleEvents } = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

const { raiseLifecycleAlert } = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** Repairs sent per activity call: keeps each payload small even when thousands of orgs drifted. */
const BATCH = 250;
/** Held repairs named in an alert (the summary has them all). */
const ALERT_SAMPLE = 20;

export async function reconciliationWorkflow(input: ReconciliationInput = {}): Promise<ReconciliationSummary> {
  const { runId } = workflowInfo();
  const integrations = input.integrationId ? [input.integrationId] : await listReconciledIntegrations();
  const results: IntegrationReconciliation[] = [];
  const progress = () =>
    setCurrentDetails(
      `**${results.length}/${integrations.length} integrations reconciled**: ${results.reduce((n, r) => n + r.checked, 0)} installations checked, ` +
        `${results.reduce((n, r) => n + r.repaired.length, 0)} repaired` +
        (results.some((r) => r.held.length > 0) ? `; held (needs --confirm): ${results.filter((r) => r.held.length > 0).map((r) => `${r.integrationId} (${r.held.length})`).join(', ')}` : ''),
    );
  progress();
  for (const integrationId of integrations) {
    const drift = await findInstallationDrift({ integrationId, confirmDeprovision: input.confirmDeprovision === true });
    const toSend = drift.holdReason ? drift.repairs.filter((repair) => repair.event !== 'uninstalled') : drift.repairs;
    const held: ReconciliationRepair[] = drift.holdReason
      ? drift.repairs
          .filter((repair) => repair.event === 'uninstalled')
          .map((repair) => ({
            integrationId: repair.integrationId,
            orgId: repair.orgId,
            event: repair.event,
            reason: repair.reason,
            ...(repair.workflowState ? { workflowState: repair.workflowState } : {}),
          }))
      : [];
    if (drift.holdReason) {
      try {
        await raiseLifecycleAlert({
          kind: 'reconciliation_held',
          summary: `reconciliation of ${integrationId} holds ${held.length} uninstall(s): ${drift.holdReason}; nothing was deprovisioned — check Genesys Cloud, then run \`tollgate installation reconcile --integration ${integrationId} --confirm\``,
          details: {
            integrationId,
            observedAt: drift.observedAt,
            activeInstallations: drift.activeInstallations,
            installedInGenesys: drift.installedInGenesys,
            held: held.length,
            orgs: held.slice(0, ALERT_SAMPLE).map((repair) => repair.orgId),
          },
        });
      } catch (error) {
        log.error('the reconciliation_held alert could not be sent', { error: describeFailure(error) });
      }
    }
    const repaired: ReconciliationRepair[] = [];
    for (let start = 0; start < toSend.length; start += BATCH) {
      const batch = toSend.slice(start, start + BATCH);
      repaired.push(...(await sendSyntheticLifecycleEvents({ runId, observedAt: drift.observedAt, repairs: batch })));
    }
    results.push({
      integrationId,
      observedAt: drift.observedAt,
      checked: drift.checked,
      installedInGenesys: drift.installedInGenesys,
      workflows: drift.workflows,
      inventory: drift.inventory,
      activeInstallations: drift.activeInstallations,
      repaired,
      held,
      ...(drift.holdReason ? { heldReason: drift.holdReason } : {}),
    });
    progress();
  }
  return {
    integrations: results,
    checked: results.reduce((total, result) => total + result.checked, 0),
    repaired: results.flatMap((result) => result.repaired),
    held: results.flatMap((result) => result.held),
    confirmed: input.confirmDeprovision === true,
  };
}
