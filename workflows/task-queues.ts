/**
 * Activities that call Genesys Cloud run on their own task queue, `<main queue>-genesys`, so that their slots are
 * their own (a slow Genesys Cloud never starves workflow-side activities). Their requests are paced by the request
 * budget every worker process shares (genesys/request-budget.ts), not by a task-queue rate limit, which would count
 * activities rather than requests. Deriving the name from the workflow's own queue keeps workflows free of
 * configuration and tests isolated.
 */
export function genesysTaskQueue(taskQueue: string): string {
  return `${taskQueue}-genesys`;
}
