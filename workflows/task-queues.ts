/**
 * Activities that call Genesys Cloud run on their own task queue, `<main queue>-genesys`, whose worker option
 * `maxTaskQueueActivitiesPerSecond` holds Genesys Cloud's ~300 requests/minute per OAuth client across every
 * worker process (the limit is enforced by the Temporal server for the whole queue, not per process).
 * Deriving the name from the workflow's own queue keeps workflows free of configuration and tests isolated.
 */
export function genesysTaskQueue(taskQueue: string): string {
  return `${taskQueue}-genesys`;
}
