/**
 * `tollgate audit …`: the audit trail.
 *   audit list [--drift] [--target TYPE/ID] [--limit N]   audits of Genesys Cloud versions (issue 3): one
 *       `audit:<type>:<id>:<version>` workflow each; drift is a version no approved deploy produced
 *   audit verify                                          walks the ledger's hash chain: exit 0 intact, 1 naming
 *       the first row that does not hold (issue 10)
 *   audit export [--since TIME] [--format jsonl|csv]      streams the ledger to stdout
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { listAudits } from '../client/change-gate';
import { auditFromLedger } from '../ledger/change-history';
import { EXPORT_FORMATS, exportHeader, exportLine, type ExportFormat } from '../ledger/export-format';
import { CliError, EXIT, type CliContext } from './context';
import { startProgress } from './progress';

export function registerAuditCommands(program: Command, context: CliContext): void {
  const audit = program.command('audit').description('the configuration audit trail');

  audit
    .command('list')
    .description('audits of this deployment (its task queue), newest first; from Temporal, and from the audit ledger once Temporal no longer has them')
    .option('--drift', 'only versions that no approved deploy produced')
    .option('--target <TYPE/ID>', 'only this object')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action(async (options: { drift?: boolean; target?: string; limit: string; json?: boolean }) => {
      const limit = z.coerce.number().int().positive().max(10_000).safeParse(options.limit);
      if (!limit.success) throw new CliError('--limit must be a positive integer', EXIT.usage);
      const client = await context.client();
      // Each finished audit's verdict is read from its result: a long list takes a while.
      const progress = await startProgress('listing audits');
      const live = (
        await listAudits(client, {
          taskQueue: context.config().temporal.taskQueue,
          drift: options.drift,
          target: options.target,
          limit: limit.data,
        }).finally(() => progress.stop())
      ).map((row) => ({ ...row, from: 'temporal' as const }));
      // Audits whose workflows Temporal no longer has (its retention passed) are still in the audit ledger.
      const seen = new Set(live.map((row) => row.workflowId));
      const ledger = context.ledgerIfConfigured();
      const remembered = (ledger ? await ledger.list({ kinds: options.drift ? ['audit.drift'] : ['audit.approved', 'audit.drift'] }) : [])
        .map(auditFromLedger)
        .filter((row) => !seen.has(row.workflowId) && (!options.target || row.target === options.target))
        .map((row) => ({ ...row, from: 'ledger' as const }));
      const rows = [...live, ...remembered].sort((a, b) => b.startTime.localeCompare(a.startTime)).slice(0, limit.data);
      const text =
        rows.length === 0
          ? options.drift
            ? 'no drift'
            : 'no audits'
          : rows
              .map(
                (r) =>
                  `${r.target ?? '?'} v${r.version ?? '?'}  ${r.verdict ?? '?'}  via ${r.source ?? '?'}  ${r.startTime}  (${r.from})` +
                  (r.changeId ? `  change ${r.changeId}` : '') +
                  (r.revertChangeId ? `  reverted by ${r.revertChangeId}` : ''),
              )
              .join('\n');
      context.print(!!options.json, rows, text);
    });

  audit
    .command('verify')
    .description('walk the audit ledger\'s hash chain: exit 0 when intact, 1 naming the first row that does not hold')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const progress = await startProgress('walking the audit ledger\'s hash chain');
      const result = await context.ledger().verify((rows) => progress.update(`walking the audit ledger's hash chain: ${rows} rows checked`));
      progress.stop();
      if (result.ok) {
        const range = result.rowsChecked === 0 ? 'empty' : `rows ${result.firstSeq}–${result.lastSeq}`;
        context.print(!!options.json, result, `audit ledger intact: ${result.rowsChecked} rows checked (${range})`);
        return;
      }
      context.print(!!options.json, result, `audit ledger broken at row ${result.problem?.seq}: ${result.problem?.message}`);
      throw new CliError(`audit ledger broken at row ${result.problem?.seq} (${result.problem?.kind})`, EXIT.failed, { seq: result.problem?.seq });
    });

  audit
    .command('export')
    .description('stream the audit ledger to stdout, oldest first')
    .option('--since <time>', 'only rows recorded at or after this time (ISO 8601)')
    .option('--format <format>', `${EXPORT_FORMATS.join(' or ')}`, 'jsonl')
    .action(async (options: { since?: string; format: string }) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(options.format)) {
        throw new CliError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`, EXIT.usage);
      }
      const format = options.format as ExportFormat;
      let since: Date | undefined;
      if (options.since !== undefined) {
        since = new Date(options.since);
        if (Number.isNaN(since.getTime())) throw new CliError(`--since must be an ISO 8601 time, got "${options.since}"`, EXIT.usage);
      }
      const header = exportHeader(format);
      if (header) await write(`${header}\n`);
      // The rows go to stdout; how far the export got goes to stderr (after two seconds, for a long ledger).
      const progress = await startProgress('exporting the audit ledger');
      let rows = 0;
      try {
        for await (const row of context.ledger().rows({ since })) {
          await write(`${exportLine(row, format)}\n`);
          if (++rows % 1000 === 0) progress.update(`exporting the audit ledger: ${rows} rows`);
        }
      } finally {
        progress.stop();
      }
    });
}

/** Writes to stdout, waiting when the pipe is full (an export can be millions of rows). */
function write(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', resolve).once('error', reject);
  });
}
