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
import { isGrpcServiceError } from '@temporalio/client';
import { Command, CommanderError } from 'commander';
import { temporalAddress } from '../client/connection';
import { ConfigError } from '../platform/config';
import { TemporalBinaryNotFoundError } from '../platform/temporal-binary';
import { registerAuditCommands } from './audit';
import { registerChangeCommands } from './change';
import { CliError, createCliContext, EXIT, type CliContext } from './context';
import { registerInstallationCommands } from './installation';
import { registerProcessCommands } from './processes';
import { setMachineOutput } from './progress';

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
  const json = wantsJson(process.argv);
  setMachineOutput(json);
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    const failure = describeFailure(error, context);
    if (failure.exitCode !== EXIT.ok) {
      // People read stderr; a `--json` consumer gets exactly one JSON document on stdout, error or not.
      if (failure.message && !failure.shownByCommander && !failure.reported) process.stderr.write(`tollgate: ${failure.message}\n`);
      if (json && !context.printed()) {
        process.stdout.write(`${JSON.stringify({ ok: false, code: failure.code, message: failure.message, exitCode: failure.exitCode, ...failure.details })}\n`);
      }
    }
    process.exitCode = failure.exitCode;
  } finally {
    await context.close().catch(() => undefined);
  }
}

/** `--json`, or `--format json` (a JSON document on stdout, whose errors are JSON too). */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.some((arg, index) => arg === '--json' || arg === '--format=json' || (arg === '--format' && argv[index + 1] === 'json'));
}

/** Stable `code`s of `{ ok: false, code, message }` by exit code, where the error names none itself. */
const CODES: Record<number, string> = {
  [EXIT.failed]: 'failed',
  [EXIT.usage]: 'invalid_input',
  [EXIT.notFound]: 'not_found',
  [EXIT.unavailable]: 'temporal_unreachable',
};

interface Failure {
  exitCode: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  /** Commander printed the message and the usage to stderr itself. */
  shownByCommander?: boolean;
  /** The command reported the outcome itself. */
  reported?: boolean;
}

function describeFailure(error: unknown, context: CliContext): Failure {
  if (error instanceof CommanderError) {
    // Commander already printed its usage message (or the help, for --help and --version: exit 0).
    if (error.exitCode === 0) return { exitCode: EXIT.ok, code: 'ok', message: '' };
    return { exitCode: EXIT.usage, code: 'invalid_input', message: error.message.replace(/^error: /, ''), shownByCommander: true };
  }
  if (error instanceof CliError) {
    const code = typeof error.details?.code === 'string' ? error.details.code : CODES[error.exitCode] ?? 'failed';
    return { exitCode: error.exitCode, code, message: error.message, details: error.details, reported: error.reported };
  }
  if (error instanceof ConfigError || error instanceof TemporalBinaryNotFoundError) {
    return { exitCode: EXIT.usage, code: 'invalid_configuration', message: error.message };
  }
  const unreachable = temporalUnreachable(error);
  if (unreachable) {
    const { temporal } = context.config();
    return {
      exitCode: EXIT.unavailable,
      code: 'temporal_unreachable',
      message: `cannot reach Temporal at ${temporalAddress(temporal)} (namespace ${temporal.namespace}): ${unreachable}`,
    };
  }
  return { exitCode: EXIT.failed, code: 'internal_error', message: (error as Error)?.stack ?? String(error) };
}

/** gRPC codes that mean "no Temporal frontend answered": UNAVAILABLE, DEADLINE_EXCEEDED, UNIMPLEMENTED (something
 * else answered on that port). */
const UNREACHABLE_GRPC_CODES = new Set([14, 4, 12]);

function temporalUnreachable(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(current) && UNREACHABLE_GRPC_CODES.has(current.code)) return current.details || current.message;
  }
  return undefined;
}
