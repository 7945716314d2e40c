/** Change gate activities (issue 3): planning, approval signature checks, deploy, verify, rollback, audit. */
import type { ActivityDeps } from './deps';

export function createChangeGateActivities(_deps: ActivityDeps) {
  return {};
}
