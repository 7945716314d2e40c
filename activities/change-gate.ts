/** Change gate activities (issue 3): planning, proof of who submitted and approved (SSH signatures, pull-request reviews), deploy, verify, rollback, audit. */
import { createApprovalVerificationActivities } from './approval-verification';
import { createAuditActivities } from './audit';
import { createAuditTrailActivities } from './audit-trail';
import { createCoordinationActivities } from './coordination';
import type { ActivityDeps } from './deps';
import { createDeployActivities } from './deploy';
import { createPlanActivities } from './plan';
import { createPullRequestActivities } from './pull-request';

/**
 * Genesys-calling activities (`planChange`, `checkLiveObject`, `readConfigObject`, `writeConfigObject`, `settleUnknownWrite`,
 * `identifyModifier`, `pollAndAuditChanges`, `pollAuditTrail`) are scheduled by the workflows on the Genesys task queue (workflows/task-queues.ts); the
 * worker registers every activity on both queues.
 */
export function createChangeGateActivities(deps: ActivityDeps) {
  return {
    ...createPlanActivities(deps),
    ...createApprovalVerificationActivities(deps),
    ...createPullRequestActivities(deps),
    ...createDeployActivities(deps),
    ...createCoordinationActivities(deps),
    ...createAuditActivities(deps),
    ...createAuditTrailActivities(deps),
  };
}

export type ChangeGateActivities = ReturnType<typeof createChangeGateActivities>;
