/**
 * Finds installation workflows through Temporal visibility (search attributes TollgateKind = 'installation',
 * TollgateIntegration, TollgateState, TollgateOrg, TollgateTenant), and reads one installation's full state by
 * query. Used by reconciliation and by `tollgate installation list/status`.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { TollgateIntegration, TollgateOrg, TollgateState, TollgateTenant } from '../../platform/search-attributes';
import {
  INSTALLATION_STATES,
  installationStateQuery,
  installationWorkflowId,
  type InstallationStateName,
  type InstallationView,
} from '../../workflows/installation-messages';

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

/** Visibility values are interpolated into a query: allow only what IDs look like (the receiver enforces the same). */
function literal(value: string): string {
  if (!/^[^\s'"\\]+$/.test(value)) throw new Error(`not a valid ID for a visibility query: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

export function installationQuery(filter: InstallationFilter): string {
  const clauses = [`TollgateKind = 'installation'`, `ExecutionStatus = 'Running'`];
  if (filter.integrationId) clauses.push(`TollgateIntegration = ${literal(filter.integrationId)}`);
  if (filter.orgId) clauses.push(`TollgateOrg = ${literal(filter.orgId)}`);
  if (filter.state) clauses.push(`TollgateState = ${literal(filter.state)}`);
  return clauses.join(' AND ');
}

export async function listInstallations(
  client: Client,
  filter: InstallationFilter,
  onEach?: (count: number) => void,
): Promise<InstallationListing[]> {
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
