/**
 * `tollgate audit list [--drift] [--target TYPE/ID] [--limit N] [--json]`: the configuration audit trail (issue 3).
 * Every `configuration.updated` event, by webhook or by the heartbeat's poll, is one `audit:<type>:<id>:<version>`
 * workflow; drift is a version no approved deploy produced.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { escapeVisibilityValue, TollgateSource, TollgateState, TollgateTarget } from '../platform/search-attributes';
import type { auditWorkflow } from '../workflows/audit';
import type { AuditResult } from '../workflows/change-messages';
import { CliError, EXIT, type CliContext } from './context';

export interface AuditRow {
  workflowId: string;
  target?: string;
  version?: number;
  verdict?: string;
  source?: string;
  startTime: string;
  status: string;
  changeId?: string;
  revertChangeId?: string;
}

export function registerAuditCommands(program: Command, context: CliContext): void {
  const audit = program.command('audit').description('the configuration audit trail');

  audit
    .command('list')
    .description('audits of this deployment (its task queue), newest first')
    .option('--drift', 'only versions that no approved deploy produced')
    .option('--target <TYPE/ID>', 'only this object')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action(async (options: { drift?: boolean; target?: string; limit: string; json?: boolean }) => {
      const limit = z.coerce.number().int().positive().max(10_000).safeParse(options.limit);
      if (!limit.success) throw new CliError('--limit must be a positive integer', EXIT.usage);
      const clauses = [`TollgateKind = 'audit'`, `TaskQueue = '${escapeVisibilityValue(context.config().temporal.taskQueue)}'`];
      if (options.drift) clauses.push(`TollgateState = 'drift'`);
      if (options.target) clauses.push(`TollgateTarget = '${escapeVisibilityValue(options.target)}'`);
      const client = await context.client();
      const rows: AuditRow[] = [];
      for await (const execution of client.workflow.list({ query: clauses.join(' AND ') })) {
        const version = Number(execution.workflowId.split(':').pop());
        const row: AuditRow = {
          workflowId: execution.workflowId,
          target: execution.typedSearchAttributes.get(TollgateTarget),
          version: Number.isInteger(version) ? version : undefined,
          verdict: execution.typedSearchAttributes.get(TollgateState),
          source: execution.typedSearchAttributes.get(TollgateSource),
          startTime: execution.startTime.toISOString(),
          status: execution.status.name,
        };
        if (execution.status.name === 'COMPLETED') {
          const result = await client.workflow.getHandle<typeof auditWorkflow>(execution.workflowId).result().catch(() => undefined);
          if (result) Object.assign(row, pick(result));
        }
        rows.push(row);
        if (rows.length >= limit.data) break;
      }
      rows.sort((a, b) => b.startTime.localeCompare(a.startTime));
      const text =
        rows.length === 0
          ? options.drift
            ? 'no drift'
            : 'no audits'
          : rows
              .map(
                (r) =>
                  `${r.target ?? '?'} v${r.version ?? '?'}  ${r.verdict ?? '?'}  via ${r.source ?? '?'}  ${r.startTime}` +
                  (r.changeId ? `  change ${r.changeId}` : '') +
                  (r.revertChangeId ? `  reverted by ${r.revertChangeId}` : ''),
              )
              .join('\n');
      context.print(!!options.json, rows, text);
    });
}

function pick(result: AuditResult): Partial<AuditRow> {
  return { verdict: result.verdict, changeId: result.changeId, revertChangeId: result.revertChangeId };
}
