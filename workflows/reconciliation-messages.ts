/**
 * The reconciliation workflow's contract (lifecycle seed, Edge Case 2): its input, the repairs it sends or holds,
 * and its summary, which `tollgate installation reconcile` prints.
 */
import type { InstallationStateName, LifecycleEventName } from './installation-messages';

export interface ReconciliationInput {
  /** Only this integration; without it, every integration with installations on this task queue (and the
   * configured TOLLGATE_INTEGRATION_ID). */
  integrationId?: string;
  reason?: string;
  /** `tollgate installation reconcile --confirm`: deprovision even beyond the configured share. */
  confirmDeprovision?: boolean;
}

export interface ReconciliationRepair {
  integrationId: string;
  orgId: string;
  event: LifecycleEventName;
  reason: string;
  workflowState?: InstallationStateName;
}

/** One integration's part of a run. */
export interface IntegrationReconciliation {
  integrationId: string;
  /** When the Genesys Cloud listing was taken: the time every synthetic event carries. */
  observedAt: string;
  checked: number;
  installedInGenesys: number;
  workflows: number;
  inventory: number;
  activeInstallations: number;
  repaired: ReconciliationRepair[];
  /** Uninstalls held back for `--confirm`, and why. */
  held: ReconciliationRepair[];
  heldReason?: string;
}

export interface ReconciliationSummary {
  integrations: IntegrationReconciliation[];
  checked: number;
  repaired: ReconciliationRepair[];
  held: ReconciliationRepair[];
  confirmed: boolean;
}
