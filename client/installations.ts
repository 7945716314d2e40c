/**
 * Every call into lifecycle installations from outside their workflows: the one path by which a lifecycle event
 * reaches its installation (signal-with-start of `installation:<orgId>:<integrationId>`), listing installations by
 * search attribute, reading one by query, and running or triggering reconciliation. The lifecycle receiver,
 * reconciliation's activities, the CLI, the tests and the benchmarks all come through this door.
 */
import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { TollgateIntegration, TollgateKind, TollgateOrg, TollgateState, TollgateTenant } from '../platform/search-attributes';
import { installationWorkflow } from '../workflows/installation';
import {
  INSTALLATION_STATES,
  installationStateQuery,
  lifecycleEventSignal,
  type InstallationEvent,
  type InstallationStateName,
  type InstallationView,
} from '../workflows/installation-messages';
import { reconciliationWorkflow } from '../workflows/reconciliation';
import type { ReconciliationSummary } from '../workflows/reconciliation-messages';
import { installationSummary, reconciliationSummary } from '../workflows/ui-metadata';
import { assertInstallationIds, installationWorkflowId, manualReconciliationWorkflowId } from '../workflows/workflow-ids';
import { visibilityQuery } from './visibility';

/**
 * Starting and signalling are one atomic call, so an event is either recorded in the workflow's history or not at
 * all (the receiver answers 2xx only after this resolves).
 */
export async function signalInstallation(client: Client, taskQueue: string, event: InstallationEvent): Promise<void> {
  // The receiver checked these already; reconciliation's events come from a listing: check every sender here too.
  assertInstallationIds({ orgId: event.orgId, integrationId: event.integrationId, tenantId: event.tenantId });
  await client.workflow.signalWithStart(installationWorkflow, {
    workflowId: installationWorkflowId(event.orgId, event.integrationId),
    taskQueue,
    signal: lifecycleEventSignal,
    signalArgs: [event],
    args: [{ orgId: event.orgId, integrationId: event.integrationId }],
    // Only used when this call starts the workflow; a running one keeps (and updates) its own.
    staticSummary: installationSummary(event),
    typedSearchAttributes: [
      { key: TollgateKind, value: 'installation' },
      { key: TollgateOrg, value: event.orgId },
      { key: TollgateIntegration, value: event.integrationId },
      { key: TollgateState, value: 'pending_install' },
      { key: TollgateTenant, value: event.tenantId },
    ],
  });
}

export interface InstallationListing {
  workflowId: string;
  orgId: string;
  integrationId: string;
  state: InstallationStateName | 'unknown';
  tenantId?: string;
  startTime: string;
}

export interface InstallationFilter {
  integrationId?: string;
  state?: InstallationStateName;
  orgId?: string;
}

/** The visibility query of running installation workflows matching `filter`. */
export function installationQuery(filter: InstallationFilter): string {
  return visibilityQuery(
    [
      ['TollgateIntegration', filter.integrationId],
      ['TollgateOrg', filter.orgId],
      ['TollgateState', filter.state],
    ],
    [`TollgateKind = 'installation'`, `ExecutionStatus = 'Running'`],
  );
}

/** Installations from their search attributes (TollgateKind = 'installation', TollgateIntegration, …). */
export async function listInstallations(client: Client, filter: InstallationFilter, onEach?: (count: number) => void): Promise<InstallationListing[]> {
  const listings: InstallationListing[] = [];
  for await (const execution of client.workflow.list({ query: installationQuery(filter) })) {
    const attributes = execution.typedSearchAttributes;
    const state = attributes.get(TollgateState);
    listings.push({
      workflowId: execution.workflowId,
      orgId: attributes.get(TollgateOrg) ?? '',
      integrationId: attributes.get(TollgateIntegration) ?? '',
      state: state && (INSTALLATION_STATES as readonly string[]).includes(state) ? (state as InstallationStateName) : 'unknown',
      ...(attributes.get(TollgateTenant) ? { tenantId: attributes.get(TollgateTenant) } : {}),
      startTime: execution.startTime.toISOString(),
    });
    onEach?.(listings.length);
  }
  return listings;
}

/** The installation's full state by query, or undefined when no such workflow exists. */
export async function describeInstallation(client: Client, orgId: string, integrationId: string): Promise<InstallationView | undefined> {
  try {
    return await client.workflow.getHandle(installationWorkflowId(orgId, integrationId)).query(installationStateQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/** Runs reconciliation now and waits for its summary (`tollgate installation reconcile`): one integration, or
 * (without one) every integration with installations on `taskQueue`. `confirmDeprovision` is `--confirm`. */
export function runReconciliation(
  client: Client,
  taskQueue: string,
  options: { integrationId?: string; confirmDeprovision?: boolean; reason?: string } = {},
): Promise<ReconciliationSummary> {
  return client.workflow.execute(reconciliationWorkflow, {
    workflowId: manualReconciliationWorkflowId(options.integrationId ?? 'all', new Date()),
    taskQueue,
    args: [
      {
        ...(options.integrationId ? { integrationId: options.integrationId } : {}),
        reason: options.reason ?? 'cli',
        ...(options.confirmDeprovision ? { confirmDeprovision: true } : {}),
      },
    ],
    workflowExecutionTimeout: '15 minutes',
    staticSummary: reconciliationSummary({ ...options, reason: options.reason ?? 'cli' }),
  });
}

/** No schedule with this ID: the worker that creates it has not run against this namespace. */
export class ScheduleMissingError extends Error {
  constructor(readonly scheduleId: string) {
    super(`no schedule ${scheduleId} (is the worker running?)`);
    this.name = 'ScheduleMissingError';
  }
}

/** Triggers a schedule now (`tollgate installation reconcile --async`). */
export async function triggerSchedule(client: Client, scheduleId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleId).trigger();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw new ScheduleMissingError(scheduleId);
    throw error;
  }
}
