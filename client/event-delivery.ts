/**
 * Starts the outbound event delivery: one `event-delivery:<taskQueue>:<endpoint>` workflow per configured endpoint
 * (TOLLGATE_EVENT_ENDPOINTS, and `jira` when TOLLGATE_JIRA_URL is set). Every worker calls it at start-up; a workflow
 * that already runs is kept (USE_EXISTING), so any number of workers start it once. A workflow whose endpoint was
 * removed from the configuration ends by itself.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { JIRA_ENDPOINT, type Config } from '../platform/config';
import { TollgateKind } from '../platform/search-attributes';
import { eventDeliveryWorkflow } from '../workflows/event-delivery';
import { eventDeliveryWorkflowId } from '../workflows/workflow-ids';

/** The endpoints the configuration names, in order: the webhooks, then Jira. */
export function eventEndpointNames(config: Config): string[] {
  return [...config.events.webhooks.map((endpoint) => endpoint.name), ...(config.events.jira ? [JIRA_ENDPOINT] : [])];
}

export async function ensureEventDeliveries(client: Client, config: Config, taskQueue = config.temporal.taskQueue): Promise<string[]> {
  const ids: string[] = [];
  for (const endpoint of eventEndpointNames(config)) {
    const workflowId = eventDeliveryWorkflowId(taskQueue, endpoint);
    await client.workflow.start(eventDeliveryWorkflow, {
      workflowId,
      taskQueue,
      args: [{ endpoint }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      // An endpoint removed and added again starts a new run (its cursor in PostgreSQL is where it was).
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [{ key: TollgateKind, value: 'event-delivery' }],
      staticSummary: endpoint === JIRA_ENDPOINT ? `change tickets: the audit ledger's steps to Jira` : `change events: the audit ledger's steps, signed, to endpoint ${endpoint}`,
    });
    ids.push(workflowId);
  }
  return ids;
}

/** Stops the delivery workflows of a deployment (tests, and an operator retiring a task queue). */
export async function stopEventDeliveries(client: Client, config: Config, taskQueue = config.temporal.taskQueue): Promise<void> {
  for (const endpoint of eventEndpointNames(config)) {
    await client.workflow
      .getHandle(eventDeliveryWorkflowId(taskQueue, endpoint))
      .terminate('event delivery stopped')
      .catch(() => undefined);
  }
}
