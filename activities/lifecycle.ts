/** Lifecycle activities (issue 4): provisioning saga steps, teardown steps, reconciliation. */
import type { ActivityDeps } from './deps';

export function createLifecycleActivities(_deps: ActivityDeps) {
  return {};
}
