/**
 * `tollgate installation …` (issue 4): what operators ask about lifecycle installations.
 *   installation status ORG[/INTEGRATION] | --org O [--integration I]   state, tenant, resources, generation,
 *                                           compensations run, last events (by query)
 *   installation list [--state S] [--org O] [--integration I]   installations by search attributes
 *   installation reconcile [--integration I] [--confirm] [--async]   runs reconciliation now and prints what it
 *                                           repaired, and what it held back for --confirm
 * All take --json. Exit codes: 0 ok, 2 bad input, 3 not found, 4 Temporal unreachable.
 */
import { isGrpcServiceError } from '@temporalio/client';
import { Option, type Command } from 'commander';
import { describeInstallation, listInstallations, runReconciliation, ScheduleMissingError, triggerSchedule } from '../client/installations';
import { reconciliationScheduleId } from '../schedules/reconciliation';
import { INSTALLATION_STATES, type InstallationStateName } from '../workflows/installation-messages';
import { installationIdProblem, installationWorkflowId } from '../workflows/workflow-ids';
import { CliError, EXIT, type CliContext } from './context';
import { startProgress, withProgress } from './progress';

export function registerInstallationCommands(program: Command, context: CliContext): void {
  const installation = program.command('installation').description('lifecycle installations (one per org + integration)');

  installation
    .command('status')
    .description('state, tenant, resources, compensations run and last events of one installation')
    .argument('[org/integration]', 'ORG/INTEGRATION, or ORG alone for the configured integration (or use --org and --integration)')
    .option('--org <orgId>', 'the org (instead of ORG/INTEGRATION)')
    .option('--integration <integrationId>', 'the integration (default: TOLLGATE_INTEGRATION_ID)')
    .option('--json', 'print JSON')
    .action(async (target: string | undefined, options: { org?: string; integration?: string; json?: boolean }) => {
      const { orgId, integrationId } = parseTarget(target, options, context);
      const view = await withTemporal(async () => describeInstallation(await context.client(), orgId, integrationId));
      if (!view) throw new CliError(`no installation ${installationWorkflowId(orgId, integrationId)}`, EXIT.notFound);
      const lines = [
        `installation ${installationWorkflowId(orgId, integrationId)}`,
        `  state          ${view.state}${view.lastError ? `  (last error at ${view.lastError.step}: ${view.lastError.message})` : ''}`,
        `  generation     ${view.generation}`,
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
        // Thousands of installations page through visibility for a while: say how far it got.
        listings = await withTemporal(async () => {
          const progress = await startProgress('listing installations');
          try {
            return await listInstallations(await context.client(), { state: options.state, orgId: options.org, integrationId: options.integration }, (count) =>
              progress.update(`listing installations: ${count} so far`),
            );
          } finally {
            progress.stop();
          }
        });
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
    .description('compare Genesys Cloud installations with the installation workflows and the inventory now, and repair drift')
    .option('--integration <integrationId>', 'only this integration (default: every integration with installations, and TOLLGATE_INTEGRATION_ID)')
    .option('--confirm', 'deprovision even when the plan exceeds TOLLGATE_RECONCILE_MAX_DEPROVISION_SHARE (after checking Genesys Cloud)')
    .option('--async', 'trigger the hourly schedule instead of waiting for the outcome')
    .option('--json', 'print JSON')
    .action(async (options: { integration?: string; confirm?: boolean; async?: boolean; json?: boolean }) => {
      const config = context.config();
      if (options.integration !== undefined) {
        const problem = installationIdProblem(options.integration);
        if (problem) throw new CliError(`the integration ID ${JSON.stringify(options.integration)} ${problem}`, EXIT.usage);
      }
      const taskQueue = config.temporal.taskQueue;
      if (options.async) {
        if (options.confirm) throw new CliError('--confirm needs a run that waits for its outcome: drop --async', EXIT.usage);
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
      // A reconciliation lists every installation of each integration in Genesys Cloud and in Temporal: seconds to
      // minutes; the run's own progress is in its current details in the Temporal UI.
      const summary = await withTemporal(async () =>
        withProgress(
          `reconciling ${options.integration ?? 'every integration with installations'} (Genesys Cloud, the installation workflows and the inventory)`,
          async () => runReconciliation(await context.client(), taskQueue, { integrationId: options.integration, confirmDeprovision: options.confirm === true }),
          (result) => `reconciled: ${result.checked} org(s) checked, ${result.repaired.length} repaired${result.held.length > 0 ? `, ${result.held.length} held` : ''}`,
        ),
      );
      const lines: string[] = [];
      if (summary.integrations.length === 0) lines.push('no integration has installations: nothing to reconcile');
      for (const result of summary.integrations) {
        lines.push(
          `reconciled ${result.integrationId} as listed at ${result.observedAt}: ${result.checked} org(s) checked (${result.installedInGenesys} installed in Genesys Cloud, ${result.workflows} installation workflows, ${result.inventory} in the inventory, ${result.activeInstallations} active)`,
          result.repaired.length === 0 ? '  no repair sent' : `  ${result.repaired.length} repair(s) sent:`,
          ...result.repaired.map((r) => `    ${r.orgId}: ${r.event}  (${r.reason})`),
        );
        if (result.held.length > 0) {
          lines.push(
            `  HELD ${result.held.length} uninstall(s): ${result.heldReason}`,
            ...result.held.map((r) => `    ${r.orgId}: ${r.event}  (${r.reason})`),
            `  check Genesys Cloud, then run: tollgate installation reconcile --integration ${result.integrationId} --confirm`,
          );
        }
      }
      context.print(!!options.json, summary, lines.join('\n'));
    });
}

function yes(value: boolean): string {
  return value ? 'yes' : 'no';
}

/**
 * The installation an operator names: `ORG/INTEGRATION`, `ORG` (with the configured integration), or `--org` and
 * `--integration`. Both IDs must follow the installation ID grammar (no `/`, so the address is unambiguous).
 */
function parseTarget(
  target: string | undefined,
  options: { org?: string; integration?: string },
  context: CliContext,
): { orgId: string; integrationId: string } {
  if (target !== undefined && options.org !== undefined) {
    throw new CliError('name the installation either as ORG/INTEGRATION or with --org, not both', EXIT.usage);
  }
  let orgId = options.org;
  let integrationId = options.integration;
  if (target !== undefined) {
    const parts = target.split('/');
    if (parts.length > 2) throw new CliError(`expected ORG/INTEGRATION, got "${target}"`, EXIT.usage);
    orgId = parts[0];
    if (parts.length === 2) {
      if (options.integration !== undefined && options.integration !== parts[1]) {
        throw new CliError(`"${target}" and --integration ${options.integration} name different integrations`, EXIT.usage);
      }
      integrationId = parts[1];
    }
  }
  integrationId ??= context.config().lifecycle.integrationId;
  if (!orgId || !integrationId) {
    throw new CliError('expected ORG/INTEGRATION, or --org ORG --integration INTEGRATION (or ORG with TOLLGATE_INTEGRATION_ID set)', EXIT.usage);
  }
  for (const [field, value] of [['org', orgId], ['integration', integrationId]] as const) {
    const problem = installationIdProblem(value);
    if (problem) throw new CliError(`the ${field} ID ${JSON.stringify(value)} ${problem}`, EXIT.usage);
  }
  return { orgId, integrationId };
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
