/**
 * The reconciliation workflow's contract (lifecycle seed, Edge Case 2): its input, the repairs it sends, and its
 * summary, which `tollgate installation reconcile` prints.
 */
import type { InstallationStateName, LifecycleEventName } from './installation-messages';

export interface ReconciliationInput {
  /** Defaults to the worker's configured integration (TOLLGATE_INTEGRATION_ID). */
  integrationId?: string;
  reason?: string;
}

export interface ReconciliationRepair {
  orgId: string;
  event: LifecycleEventName;
  reason: string;
  workflowState?: InstallationStateName;
}

export interface ReconciliationSummary {
  integrationId: string;
  checked: number;
  installedInGenesys: number;
  workflows: number;
  repaired: ReconciliationRepair[];
}
