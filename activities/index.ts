/** Every activity the worker registers, built from injected dependencies. */
import type { ActivityDeps } from './deps';
import { createChangeGateActivities } from './change-gate';
import { createLedgerActivities } from './ledger';
import { createLifecycleActivities } from './lifecycle';
import { createOutboundEventActivities } from './outbound-events';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createChangeGateActivities(deps),
    ...createLifecycleActivities(deps),
    ...createLedgerActivities(deps),
    ...createOutboundEventActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
