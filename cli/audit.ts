/**
 * `tollgate audit list [--drift] [--target TYPE/ID] [--limit N] [--json]`: the configuration audit trail (issue 3).
 * Every `configuration.updated` event, by webhook or by the heartbeat's poll, is one `audit:<type>:<id>:<version>`
 * workflow; drift is a version no approved deploy produced.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { listAudits } from '../client/change-gate';
import { CliError, EXIT, type CliContext } from './context';

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
      const client = await context.client();
      const rows = await listAudits(client, {
        taskQueue: context.config().temporal.taskQueue,
        drift: options.drift,
        target: options.target,
        limit: limit.data,
      });
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
