/**
 * A pino logger for the activity being run: its lines carry `workflowId`, `runId`, `activityType` and `attempt`, so
 * an operator can go from a log line to the workflow in the Temporal UI. Outside an activity it is the logger as is.
 */
import type { Logger } from '../platform/logger';
import { currentActivity } from './activity-context';

export function activityLogger(logger: Logger): Logger {
  const context = currentActivity();
  if (!context) return logger;
  const { workflowExecution, activityType, attempt } = context.info;
  return logger.child({ workflowId: workflowExecution?.workflowId, runId: workflowExecution?.runId, activityType, attempt });
}
