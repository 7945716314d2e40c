/**
 * The one path by which a lifecycle event reaches its installation: signal-with-start of
 * `installation:<orgId>:<integrationId>`. The receiver uses it for webhooks, reconciliation for its synthetic
 * repairs, the benchmark for its ceiling. Starting and signalling are one atomic call, so an event is either
 * recorded in the workflow's history or not at all.
 */
import type { Client } from '@temporalio/client';
import { TollgateIntegration, TollgateKind, TollgateOrg, TollgateState, TollgateTenant } from '../platform/search-attributes';
import { installationWorkflow } from '../workflows/installation';
import { installationWorkflowId, lifecycleEventSignal, type InstallationEvent } from '../workflows/installation-messages';

export async function signalInstallation(client: Client, taskQueue: string, event: InstallationEvent): Promise<void> {
  await client.workflow.signalWithStart(installationWorkflow, {
    workflowId: installationWorkflowId(event.orgId, event.integrationId),
    taskQueue,
    signal: lifecycleEventSignal,
    signalArgs: [event],
    args: [{ orgId: event.orgId, integrationId: event.integrationId }],
    // Only used when this call starts the workflow; a running one keeps (and updates) its own.
    typedSearchAttributes: [
      { key: TollgateKind, value: 'installation' },
      { key: TollgateOrg, value: event.orgId },
      { key: TollgateIntegration, value: event.integrationId },
      { key: TollgateState, value: 'pending_install' },
      { key: TollgateTenant, value: event.tenantId },
    ],
  });
}
