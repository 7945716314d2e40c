/** Change gate activities (issue 3): planning, approval signature checks, deploy, verify, rollback, audit. */
import { createApprovalSignatureActivities } from './approval-signature';
import { createAuditActivities } from './audit';
import { createAuditTrailActivities } from './audit-trail';
import { createCoordinationActivities } from './coordination';
import type { ActivityDeps } from './deps';
import { createDeployActivities } from './deploy';
import { createPlanActivities } from './plan';

/**
 * Genesys-calling activities (`planChange`, `readConfigObject`, `writeConfigObject`, `settleUnknownWrite`,
 * `identifyModifier`, `pollAndAuditChanges`, `pollAuditTrail`) are scheduled by the workflows on the Genesys task queue (workflows/task-queues.ts); the
 * worker registers every activity on both queues.
 */
export function createChangeGateActivities(deps: ActivityDeps) {
  return {
    ...createPlanActivities(deps),
    ...createApprovalSignatureActivities(deps),
    ...createDeployActivities(deps),
    ...createCoordinationActivities(deps),
    ...createAuditActivities(deps),
    ...createAuditTrailActivities(deps),
  };
}

export type ChangeGateActivities = ReturnType<typeof createChangeGateActivities>;
