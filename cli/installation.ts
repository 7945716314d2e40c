/**
 * `tollgate installation …` (issue 4): what operators ask about lifecycle installations.
 *   installation status ORG[/INTEGRATION]   state, tenant, resources, compensations run, last events (by query)
 *   installation list [--state S] [--org O] [--integration I]   installations by search attributes
 *   installation reconcile [--integration I] [--async]   runs reconciliation now and prints what it repaired
 * All take --json. Exit codes: 0 ok, 2 bad input, 3 not found, 4 Temporal unreachable.
 */
import { isGrpcServiceError } from '@temporalio/client';
import { Option, type Command } from 'commander';
import { describeInstallation, listInstallations, runReconciliation, ScheduleMissingError, triggerSchedule } from '../client/installations';
import { reconciliationScheduleId } from '../schedules/reconciliation';
import { INSTALLATION_STATES, type InstallationStateName } from '../workflows/installation-messages';
import { installationWorkflowId } from '../workflows/workflow-ids';
import { CliError, EXIT, type CliContext } from './context';

export function registerInstallationCommands(program: Command, context: CliContext): void {
  const installation = program.command('installation').description('lifecycle installations (one per org + integration)');

  installation
    .command('status')
    .description('state, tenant, resources, compensations run and last events of one installation')
    .argument('<org/integration>', 'ORG/INTEGRATION, or ORG alone for the configured integration')
    .option('--json', 'print JSON')
    .action(async (target: string, options: { json?: boolean }) => {
      const { orgId, integrationId } = parseTarget(target, context);
      const view = await withTemporal(async () => describeInstallation(await context.client(), orgId, integrationId));
      if (!view) throw new CliError(`no installation ${installationWorkflowId(orgId, integrationId)}`, EXIT.notFound);
      const lines = [
        `installation ${installationWorkflowId(orgId, integrationId)}`,
        `  state          ${view.state}${view.lastError ? `  (last error at ${view.lastError.step}: ${view.lastError.message})` : ''}`,
        `  tenant         ${view.tenantId ?? '-'}${view.enabled ? '' : ' (disabled)'}`,
        `  resources      tenant=${yes(view.resources.tenant)} schema=${yes(view.resources.schema)}${view.resources.schemaName ? ` (${view.resources.schemaName})` : ''} crm=${yes(view.resources.crm)}`,
        `  tombstone      ${view.tombstone ? `${view.tombstone.identity} (${view.tombstone.sequence ?? view.tombstone.eventTimestamp})` : '-'}`,
        `  compensations  ${view.compensationsRun.length === 0 ? '-' : view.compensationsRun.map((c) => `${c.step}:${c.outcome}`).join(', ')}`,
        `  pending        ${view.pendingEvents} event(s); ${view.seenIdentities} identities remembered`,
        `  last events`,
        ...view.lastEvents
          .slice(-10)
          .map((e) => `    ${e.receivedAt}  ${e.event.padEnd(21)} ${e.outcome.padEnd(13)} ${e.source}${e.sequence === undefined ? '' : ` #${e.sequence}`}${e.detail ? `  ${e.detail}` : ''}`),
      ];
      context.print(!!options.json, view, lines.join('\n'));
    });

  installation
    .command('list')
    .description('installations, from the search attributes operators also filter by in the Temporal UI')
    .addOption(new Option('--state <state>', 'only installations in this state').choices([...INSTALLATION_STATES]))
    .option('--org <orgId>', 'only this org')
    .option('--integration <integrationId>', 'only this integration')
    .option('--json', 'print JSON')
    .action(async (options: { state?: InstallationStateName; org?: string; integration?: string; json?: boolean }) => {
      let listings;
      try {
        listings = await withTemporal(async () =>
          listInstallations(await context.client(), { state: options.state, orgId: options.org, integrationId: options.integration }),
        );
      } catch (error) {
        if (error instanceof CliError) throw error;
        throw new CliError((error as Error).message, EXIT.usage);
      }
      listings.sort((a, b) => a.workflowId.localeCompare(b.workflowId));
      const text =
        listings.length === 0
          ? 'no installations'
          : [
              `${'ORG'.padEnd(28)} ${'INTEGRATION'.padEnd(28)} ${'STATE'.padEnd(25)} TENANT`,
              ...listings.map((l) => `${l.orgId.padEnd(28)} ${l.integrationId.padEnd(28)} ${l.state.padEnd(25)} ${l.tenantId ?? '-'}`),
              `${listings.length} installation(s)`,
            ].join('\n');
      context.print(!!options.json, listings, text);
    });

  installation
    .command('reconcile')
    .description('compare Genesys Cloud installations with the installation workflows now and repair drift')
    .option('--integration <integrationId>', 'the integration (default: TOLLGATE_INTEGRATION_ID)')
    .option('--async', 'trigger the hourly schedule instead of waiting for the outcome')
    .option('--json', 'print JSON')
    .action(async (options: { integration?: string; async?: boolean; json?: boolean }) => {
      const config = context.config();
      const integrationId = options.integration ?? config.lifecycle.integrationId;
      if (!integrationId) throw new CliError('no integration: pass --integration or set TOLLGATE_INTEGRATION_ID', EXIT.usage);
      const taskQueue = config.temporal.taskQueue;
      if (options.async) {
        const scheduleId = reconciliationScheduleId(taskQueue);
        await withTemporal(async () => {
          try {
            await triggerSchedule(await context.client(), scheduleId);
          } catch (error) {
            if (error instanceof ScheduleMissingError) throw new CliError(error.message, EXIT.notFound);
            throw error;
          }
        });
        context.print(!!options.json, { triggered: scheduleId }, `triggered ${scheduleId}`);
        return;
      }
      const summary = await withTemporal(async () => runReconciliation(await context.client(), taskQueue, integrationId));
      const text = [
        `reconciled ${summary.integrationId}: ${summary.checked} org(s) checked (${summary.installedInGenesys} installed in Genesys Cloud, ${summary.workflows} installation workflows)`,
        summary.repaired.length === 0 ? '  no drift' : `  ${summary.repaired.length} repair(s) sent:`,
        ...summary.repaired.map((r) => `    ${r.orgId}: ${r.event}  (${r.reason})`),
      ].join('\n');
      context.print(!!options.json, summary, text);
    });
}

function yes(value: boolean): string {
  return value ? 'yes' : 'no';
}

function parseTarget(target: string, context: CliContext): { orgId: string; integrationId: string } {
  const [orgId, integrationId, ...rest] = target.split('/');
  const integration = integrationId || context.config().lifecycle.integrationId;
  if (!orgId || rest.length > 0 || !integration) {
    throw new CliError(`expected ORG/INTEGRATION (or ORG with TOLLGATE_INTEGRATION_ID set), got "${target}"`, EXIT.usage);
  }
  return { orgId, integrationId: integration };
}

/** Temporal connection failures become exit code 4 with a readable message. */
async function withTemporal<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (isGrpcServiceError(error) && (error.code === 14 || error.code === 4)) {
      throw new CliError(`cannot reach Temporal: ${error.message}`, EXIT.unavailable);
    }
    throw error;
  }
}
