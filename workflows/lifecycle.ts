/** Lifecycle workflows (issue 4): one installation workflow per org + integration, and reconciliation. */
export { installationWorkflow } from './installation';
export { reconciliationWorkflow } from './reconciliation';
