/**
 * `tollgate`: the one command for everything.
 *   tollgate dev           the whole stack on this machine (what `npm start` runs)
 *   tollgate worker        the worker alone (production: run any number)
 *   tollgate receivers     the webhook receivers alone (production: run any number)
 *   tollgate emulator      the Genesys Cloud emulator alone
 *   tollgate change …      the change gate, for CI
 *   tollgate audit …       the configuration audit trail
 *   tollgate installation … lifecycle installations
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../platform/config';
import { TemporalBinaryNotFoundError } from '../platform/temporal-binary';
import { registerAuditCommands } from './audit';
import { registerChangeCommands } from './change';
import { CliError, createCliContext, EXIT } from './context';
import { registerInstallationCommands } from './installation';
import { registerProcessCommands } from './processes';

export function buildProgram(context = createCliContext()): Command {
  const program = new Command('tollgate')
    .description('Peer-review gate for Genesys Cloud configuration changes and lifecycle provisioning, on Temporal.')
    .showHelpAfterError()
    .exitOverride();
  registerProcessCommands(program);
  registerChangeCommands(program, context);
  registerAuditCommands(program, context);
  registerInstallationCommands(program, context);
  return program;
}

export async function main(): Promise<void> {
  const context = createCliContext();
  const program = buildProgram(context);
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
  } finally {
    await context.close().catch(() => undefined);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof CliError) {
    process.stderr.write(`tollgate: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof ConfigError || error instanceof TemporalBinaryNotFoundError) {
    process.stderr.write(`tollgate: ${error.message}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`tollgate: ${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT.failed;
}
