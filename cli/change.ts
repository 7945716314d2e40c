/**
 * `tollgate change …`: the change gate, as CI uses it (issue 3).
 *
 *   change submit --target TYPE/ID --file PATH --requester USER [--change-id ID] [--reason TEXT]
 *                 [--key PATH | --signature FILE|-] [--pull-request OWNER/REPO#N --path FILE] [--print-statement]
 *                 [--format text|markdown|json] [--full]
 *   change statement ID --as NAME [--decision approve|reject]
 *   change approve ID --approver NAME [--key PATH | --signature FILE|-] [--statement FILE] [--payload-hash HASH]
 *   change reject ID --approver NAME --reason TEXT [--key PATH | --signature FILE|-] [--statement FILE]
 *   change status ID [--format text|markdown|json] [--full] [--no-live]
 *                                   (with the change's tickets from the audit ledger, when DATABASE_URL is set)
 *   change list [--state S] [--limit N]
 *   change wait ID [--timeout DURATION]
 *   change rollback ID --requester USER [--change-id ID] [--reason TEXT] [--key PATH | --signature FILE|-]
 *                   [--format text|markdown|json] [--full]
 *
 * The plan is printed as views/change-view.ts renders it: text for a terminal, markdown for a pull request (a fenced
 * `diff` block), json for tools; `--json` prints the whole status as one JSON document instead.
 *
 * Submissions, approvals and rejections are signed with the person's own SSH key (cli/signing.ts); the worker
 * verifies them against its allowed-signers file. `change statement` prints the exact text to sign, for signing
 * elsewhere (`ssh-keygen -Y sign -n tollgate -f KEY`).
 *
 * Every command takes --json (one JSON document on stdout). Exit codes (cli/context.ts): 0 ok; 1 the outcome is a
 * failure (a refused approval; `change wait` on anything but deployed-and-verified: the seed's "Silent Failures in
 * CI/CD" trap); 2 bad input; 3 no such change; 4 Temporal unreachable.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { z } from 'zod';
import { canonicalPrincipal, principalProblem } from '../approvals/principal';
import { renderStatement, StatementError } from '../approvals/statement';
import { submissionStatement } from '../approvals/submission';
import {
  approveChange,
  ChangeIdConflictError,
  ChangeNotFoundError,
  changeStatus,
  checkLiveObject,
  listChanges,
  rollbackInput,
  refusalOf,
  rejectChange,
  statementFor,
  submitChange,
  waitForOutcome,
  waitForPlan,
} from '../client/change-gate';
import { changeFromLedger } from '../ledger/change-history';
import { durationSchema } from '../platform/config';
import { decisionStatementText } from '../workflows/change-policy';
import type { LedgerData } from '../workflows/ledger-records';
import {
  CHANGE_STATES,
  FINAL_STATES,
  METADATA_KEYS,
  SUCCESS_STATES,
  pullRequestReference,
  type ChangeInput,
  type ChangeState,
  type ChangeStatus,
  type PullRequestLink,
} from '../workflows/change-messages';
import { changeDocument, changePlanView, renderChange, type ChangeTicket } from '../views/change-view';
import { PLAN_FORMATS, type PlanFormat } from '../views/plan-view';
import { changeWorkflowId, isValidName, parseTargetAddress, RESERVED_CHANGE_ID_PREFIX, targetAddress } from '../workflows/workflow-ids';
import { CliError, EXIT, type CliContext } from './context';
import { startProgress, withProgress } from './progress';
import { readTextArgument, signatureFor, type SigningOptions } from './signing';

/** The file CI submits: a JSON object of the fields to set; `null` removes a field. */
export const DesiredFieldsSchema = z
  .record(z.string().min(1), z.unknown())
  .refine((fields) => Object.keys(fields).length > 0, 'the file sets no field')
  .refine(
    (fields) => !Object.keys(fields).some((key) => METADATA_KEYS.includes(key)),
    `metadata keys (${METADATA_KEYS.join(', ')}) cannot be set by a change`,
  );

const changeIdSchema = z
  .string()
  .refine(isValidName, 'a change ID is letters, digits, ".", "_" and "-", starting with a letter or digit')
  .refine((id) => !id.startsWith(RESERVED_CHANGE_ID_PREFIX), `change IDs starting with "${RESERVED_CHANGE_ID_PREFIX}" are reserved for drift reverts`);

interface JsonOption {
  json?: boolean;
}

interface FormatOptions {
  format: string;
  full?: boolean;
}

/** `--format` and `--full`, for the commands that print a change and its plan. */
function formatOptions(command: Command): Command {
  return command
    .option('--format <format>', `how to print the change and its plan: ${PLAN_FORMATS.join(', ')} (markdown: for a pull request)`, 'text')
    .option('--full', 'show long strings of the plan whole instead of shortened');
}

function parseFormat(options: FormatOptions): PlanFormat {
  if (!(PLAN_FORMATS as readonly string[]).includes(options.format)) throw new CliError(`--format must be one of ${PLAN_FORMATS.join(', ')}, got "${options.format}"`, EXIT.usage);
  return options.format as PlanFormat;
}

/**
 * Prints a change: `--json` the whole status (with its plan view) as one JSON document; otherwise `--format`.
 * `extra` goes into the JSON documents (workflowId, source, tickets, …).
 */
function printChange(
  context: CliContext,
  options: JsonOption & FormatOptions,
  status: ChangeStatus,
  extra: Record<string, unknown>,
  view: { tickets?: ChangeTicket[]; note?: string } = {},
): void {
  const format = parseFormat(options);
  if (options.json) {
    context.print(true, { ...extra, ...status, planView: changePlanView(status) ?? null }, '');
  } else if (format === 'json') {
    context.print(true, { ...extra, ...changeDocument(status) }, '');
  } else {
    context.print(false, undefined, renderChange(status, format, { full: options.full, ...view }));
  }
}

/** `OWNER/REPO#N` → the repository (lower case) and number. */
function parsePullRequest(text: string): { repository: string; number: number } {
  const match = /^([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)#([1-9][0-9]{0,9})$/.exec(text.trim());
  if (!match) throw new CliError(`--pull-request must be OWNER/REPO#N, got "${text}"`, EXIT.usage);
  return { repository: match[1].toLowerCase(), number: Number(match[2]) };
}

function signingOptions(command: Command): Command {
  return command
    .option('--key <path>', 'sign with this SSH private key (OpenSSH format; sandbox default: .tollgate/keys/<name>)')
    .option('--signature <file>', 'an armored SSH signature of the statement made elsewhere (ssh-keygen -Y sign -n tollgate); - reads stdin');
}

export function registerChangeCommands(program: Command, context: CliContext): void {
  const change = program.command('change').description('submit, approve and follow gated configuration changes');

  formatOptions(signingOptions(
    change
      .command('submit')
      .description('submit a change, signed by its requester: prints its ID and its plan (the same --change-id again is the same change)')
      .requiredOption('--target <TYPE/ID>', 'the configuration object, e.g. ivr/main-menu')
      .requiredOption('--file <path>', 'JSON object of the fields to set (null removes a field)')
      .requiredOption('--requester <user>', 'who asks for the change (cannot approve it); with --pull-request, its author')
      .option('--change-id <id>', 'ID from CI, e.g. the pull request and commit; default chg-<uuid>')
      .option('--reason <text>', 'why')
      .option('--pull-request <OWNER/REPO#N>', 'link the change to a pull request: its reviews on the planned commit are approvals')
      .option('--path <file>', "with --pull-request: the file's path in the repository")
      .option('--print-statement', 'print the submit statement to sign, and submit nothing'),
  ))
    .option('--json', 'print the whole status as one JSON document')
    .action(
      async (
        options: {
          target: string;
          file: string;
          requester: string;
          changeId?: string;
          reason?: string;
          pullRequest?: string;
          path?: string;
          printStatement?: boolean;
        } & SigningOptions &
          FormatOptions &
          JsonOption,
      ) => {
        parseFormat(options);
        const target = parseTargetAddress(options.target);
        if (!target) throw new CliError(`--target must be TYPE/ID (letters, digits, ".", "_", "-"), got "${options.target}"`, EXIT.usage);
        const changeId = parseOr(changeIdSchema, options.changeId ?? `chg-${randomUUID()}`, '--change-id');
        const desired = parseOr(DesiredFieldsSchema, await readJsonFile(options.file), options.file);
        let pullRequest: PullRequestLink | undefined;
        if (options.pullRequest) {
          if (!options.path) throw new CliError('--pull-request needs --path (the file in the repository)', EXIT.usage);
          pullRequest = { ...parsePullRequest(options.pullRequest), path: options.path };
        } else if (options.path) {
          throw new CliError('--path goes with --pull-request', EXIT.usage);
        }
        const input: ChangeInput = { changeId, target, desired, requester: options.requester, reason: options.reason, ...(pullRequest ? { pullRequest } : {}) };
        const statement = submitStatementText(context, input);
        if (options.printStatement) {
          // Exactly the statement's bytes, as `change statement` prints them: what is printed is what is signed.
          if (options.json) context.print(true, { changeId, statement }, '');
          else process.stdout.write(statement);
          return;
        }
        // A pull request proves its author; any other submission is signed by its requester.
        if (options.key || options.signature || !pullRequest) {
          input.submission = { signature: await signatureFor(context.config(), options, options.requester, statement) };
        }
        const status = await submitAndPlan(context, input);
        printChange(context, options, status, { workflowId: changeWorkflowId(changeId) });
        if (status.state === 'failed' || status.state === 'refused') throw new CliError(`change ${changeId} ${status.state}: ${status.stateReason ?? ''}`, EXIT.failed, { state: status.state });
      },
    );

  change
    .command('statement <id>')
    .description('print the exact statement NAME signs to approve (or reject) this run of the change, e.g. for ssh-keygen -Y sign -n tollgate')
    .requiredOption('--as <name>', 'the principal who will sign')
    .option('--decision <decision>', 'approve or reject', 'approve')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { as: string; decision: string } & JsonOption) => {
      if (options.decision !== 'approve' && options.decision !== 'reject') throw new CliError('--decision must be approve or reject', EXIT.usage);
      const principal = canonicalPrincipal(options.as);
      if (!principal) throw new CliError(`--as: ${principalProblem(options.as)}`, EXIT.usage);
      const status = await statusOf(context, id);
      const statement = statementFor(status, options.decision, principal);
      if (!statement) throw new CliError(`change ${id} has no plan yet (${status.state})`, EXIT.failed, { state: status.state });
      // Exactly the statement's bytes (it ends with its own newline): what is printed is what is signed.
      if (options.json) context.print(true, { changeId: id, runId: status.runId, decision: options.decision, principal, statement }, '');
      else process.stdout.write(statement);
    });

  signingOptions(
    change
      .command('approve <id>')
      .description("approve a change: a signature by the approver's SSH key over this run's statement (see `change statement`)")
      .requiredOption('--approver <name>', 'who approves'),
  )
    .option('--statement <file>', 'the statement that was signed (default: the change\'s current statement for --approver)')
    .option('--payload-hash <hash>', 'refuse unless the plan\'s payload is the one the approver reviewed')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { approver: string; statement?: string; payloadHash?: string } & SigningOptions & JsonOption) => {
      await decide(context, id, 'approve', options);
    });

  signingOptions(
    change
      .command('reject <id>')
      .description('reject a change (ends it), signed like an approval; the requester rejecting withdraws it')
      .requiredOption('--approver <name>', 'who rejects')
      .requiredOption('--reason <text>', 'why (a note; not part of what is signed)'),
  )
    .option('--statement <file>', 'the statement that was signed (default: the change\'s current statement for --approver)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { approver: string; reason: string; statement?: string } & SigningOptions & JsonOption) => {
      await decide(context, id, 'reject', options);
    });

  formatOptions(
    change
      .command('status <id>')
      .description("a change's state, plan, approvals, deploy result and tickets; while it awaits approval, whether its object moved since the plan"),
  )
    .option('--no-live', "do not ask the worker to read the live object (one Genesys Cloud read) while the change awaits approval")
    .option('--json', 'print the whole status as one JSON document')
    .action(async (id: string, options: { live: boolean } & FormatOptions & JsonOption) => {
      parseFormat(options);
      // Temporal answers while it has the workflow; after its retention the audit ledger still does.
      const tickets = await ticketsOf(context, id);
      const withTickets = tickets ? { tickets } : {};
      try {
        const client = await context.client();
        let status = await changeStatus(client, id);
        if (status.state === 'awaiting_approval' && options.live) {
          // Only the worker reads Genesys Cloud: it tells whether the object moved since the plan (stale_plan).
          const live = await withProgress(`change ${id}: asking the worker whether ${targetAddress(status.target)} moved since the plan`, () => checkLiveObject(client, id));
          if (live) status = { ...status, live };
          else process.stderr.write(`tollgate: the worker did not read the live object of change ${id} in time; the plan is shown without it\n`);
        }
        printChange(context, options, status, { workflowId: changeWorkflowId(id), source: 'temporal', ...withTickets }, { tickets });
        return;
      } catch (error) {
        if (!(error instanceof ChangeNotFoundError)) throw error;
      }
      const ledger = context.ledgerIfConfigured();
      if (!ledger) throw new CliError(`no change ${id} in Temporal (set DATABASE_URL to consult the audit ledger too)`, EXIT.notFound);
      const status = changeFromLedger(id, await ledger.list({ subject: changeWorkflowId(id) }));
      if (!status) throw new CliError(`no change ${id} (neither Temporal nor the audit ledger knows it)`, EXIT.notFound);
      const note = 'from the audit ledger: Temporal no longer has this change (its retention has passed)';
      printChange(context, options, status, { workflowId: changeWorkflowId(id), source: 'ledger', ...withTickets }, { tickets, note });
    });

  change
    .command('list')
    .description('changes of this deployment (its task queue), newest first')
    .option('--state <state>', `only this state (${CHANGE_STATES.join(', ')})`)
    .option('--target <TYPE/ID>', 'only changes to this object')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action(async (options: { state?: string; target?: string; limit: string } & JsonOption) => {
      if (options.state && !(CHANGE_STATES as readonly string[]).includes(options.state)) {
        throw new CliError(`--state must be one of ${CHANGE_STATES.join(', ')}`, EXIT.usage);
      }
      const limit = parseOr(z.coerce.number().int().positive().max(10_000), options.limit, '--limit');
      const rows = await listChanges(await context.client(), {
        taskQueue: context.config().temporal.taskQueue,
        state: options.state as ChangeState | undefined,
        target: options.target,
        limit,
      });
      const text = rows.length === 0 ? 'no changes' : rows.map((r) => `${r.changeId}  ${r.state ?? '?'}  ${r.target ?? '?'}  ${r.requester ?? '?'}  ${r.startTime}`).join('\n');
      context.print(!!options.json, rows, text);
    });

  change
    .command('wait <id>')
    .description('wait for the outcome: exit 0 only when deployed and verified, otherwise 1 with the state and reason')
    .option('--timeout <duration>', 'give up after this long (e.g. 10m)', '30m')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { timeout: string } & JsonOption) => {
      const timeoutMs = parseOr(durationSchema, options.timeout, '--timeout');
      const workflowId = changeWorkflowId(id);
      const client = await context.client();
      const describe = (status: ChangeStatus) => `${status.state}${status.stateReason ? `: ${status.stateReason}` : ''}`;
      // The states on the way go to stderr as they happen (a spinner on a terminal, timestamped lines otherwise); the
      // outcome is printed once: on stdout (its JSON document with --json, then one human line on stderr).
      const terminal = process.stderr.isTTY === true && process.env.CI === undefined;
      const progress = terminal ? await startProgress(`change ${id}: waiting for its outcome`) : undefined;
      let result;
      try {
        result = await waitForOutcome(client, id, {
          timeoutMs,
          onProgress: (status) => {
            if (FINAL_STATES.includes(status.state) || SUCCESS_STATES.includes(status.state)) return;
            if (progress) progress.update(`change ${id} ${describe(status)}`);
            else process.stderr.write(`[${new Date().toISOString()}] change ${id} ${describe(status)}\n`);
          },
        });
      } catch (error) {
        progress?.fail();
        if (error instanceof ChangeNotFoundError) throw new CliError(error.message, EXIT.notFound);
        throw error;
      }
      const { outcome, status } = result;
      const line = `change ${id} ${outcome === 'succeeded' ? describe(status) : outcome === 'failed' ? `ended ${describe(status)}` : `is still ${describe(status)}: timed out after ${options.timeout}`}`;
      // On a terminal the spinner's last line is the outcome when stdout carries JSON; otherwise stdout says it.
      if (!options.json) progress?.stop();
      else if (outcome === 'succeeded') progress?.succeed(line);
      else progress?.fail(line);
      const document = { ok: outcome === 'succeeded', ...(outcome === 'timed_out' ? { timedOut: true } : {}), workflowId, ...status };
      if (options.json) {
        context.print(true, document, '');
        if (!progress) process.stderr.write(`${line}\n`);
      } else {
        context.print(false, undefined, line);
      }
      if (outcome !== 'succeeded') throw new CliError(line, EXIT.failed, { state: status.state }, true);
    });

  formatOptions(signingOptions(
    change
      .command('rollback <id>')
      .description('submit a new change that restores the fields this change touched to their pre-deploy values (same approvals)')
      .requiredOption('--requester <user>', 'who asks for the rollback (signs it like a submission)')
      .option('--change-id <id>', 'default rollback-<id>')
      .option('--reason <text>', 'why'),
  ))
    .option('--json', 'print the whole status as one JSON document')
    .action(async (id: string, options: { requester: string; changeId?: string; reason?: string } & SigningOptions & FormatOptions & JsonOption) => {
      parseFormat(options);
      const original = await statusOf(context, id);
      const changeId = parseOr(changeIdSchema, options.changeId ?? `rollback-${id}`, '--change-id');
      const input = rollbackInput(original, { changeId, requester: options.requester, reason: options.reason });
      if (!input) throw new CliError(`change ${id} is ${original.state}: only a deployed change can be rolled back`, EXIT.usage, { state: original.state });
      input.submission = { signature: await signatureFor(context.config(), options, options.requester, submitStatementText(context, input)) };
      const status = await submitAndPlan(context, input);
      printChange(context, options, status, { workflowId: changeWorkflowId(changeId), rollbackOf: id });
    });
}

/** The `submit` statement of `input` (what its requester signs). */
function submitStatementText(context: CliContext, input: ChangeInput): string {
  try {
    return renderStatement(
      submissionStatement(
        { ...input, pullRequest: input.pullRequest ? pullRequestReference(input.pullRequest) : undefined },
        context.config().temporal.namespace,
      ),
    );
  } catch (error) {
    if (error instanceof StatementError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
}

/** approve / reject: build (or read) the statement, get its signature, send the update, report a refusal. */
async function decide(
  context: CliContext,
  id: string,
  decision: 'approve' | 'reject',
  options: { approver: string; reason?: string; statement?: string; payloadHash?: string } & SigningOptions & JsonOption,
): Promise<void> {
  const client = await context.client();
  const before = await statusOf(context, id);
  const principal = canonicalPrincipal(options.approver);
  // Refused here exactly as the workflow would refuse it: a blank name is nobody.
  if (!principal) return refused(context, options, before, 'blank_principal', principalProblem(options.approver) ?? 'not a principal');
  if (!before.plan) return refused(context, options, before, 'not_awaiting_approval', `change ${id} has no plan yet (${before.state})`);
  const plan = options.payloadHash ? { ...before.plan, payloadHash: options.payloadHash } : before.plan;
  let statement: string;
  try {
    statement = options.statement
      ? await readTextArgument(options.statement, 'the statement')
      : decisionStatementText({ namespace: before.namespace, changeId: before.changeId, runId: before.runId, target: before.target, plan }, decision, principal);
  } catch (error) {
    if (error instanceof StatementError) throw new CliError(`--payload-hash: ${error.message}`, EXIT.usage);
    throw error;
  }
  const signature = await signatureFor(context.config(), options, principal, statement);
  // The worker verifies the signature (and, for an approval, reads the object once): a moment, or longer when busy.
  const progress = await startProgress(
    `change ${id}: ${principal}'s ${decision === 'approve' ? 'approval' : 'rejection'} sent; the worker verifies its signature${decision === 'approve' ? ` and reads ${targetAddress(before.target)}` : ''}`,
  );
  try {
    if (decision === 'approve') {
      const status = await approveChange(client, id, { approver: options.approver, statement, signature }).finally(() => progress.stop());
      const count = `${status.approvals.length}/${status.requiredApprovals ?? '?'}`;
      context.print(!!options.json, { ok: true, ...status }, `approved by ${principal} (${count}); change ${id} is ${status.state}`);
    } else {
      const status = await rejectChange(client, id, { approver: options.approver, reason: options.reason ?? '', statement, signature }).finally(() => progress.stop());
      context.print(!!options.json, { ok: true, ...status }, `change ${id} is ${status.state}: ${status.stateReason ?? ''}`);
    }
  } catch (error) {
    return refusedOrRethrow(context, options, id, error);
  }
}

async function submitAndPlan(context: CliContext, input: ChangeInput): Promise<ChangeStatus> {
  const client = await context.client();
  return withProgress(
    `change ${input.changeId}: submitting; the worker proves it and reads ${targetAddress(input.target)} to plan it`,
    async () => {
      try {
        await submitChange(client, context.config().temporal.taskQueue, input);
      } catch (error) {
        if (error instanceof ChangeIdConflictError) throw new CliError(error.message, EXIT.usage);
        throw error;
      }
      return waitForPlan(client, input.changeId);
    },
    (status) => `change ${input.changeId}: ${status.state}`,
  );
}

async function statusOf(context: CliContext, id: string): Promise<ChangeStatus> {
  try {
    return await changeStatus(await context.client(), id);
  } catch (error) {
    if (error instanceof ChangeNotFoundError) throw new CliError(error.message, EXIT.notFound);
    throw error;
  }
}

/** How long `change status` waits for the ledger's answer about tickets before it shows the status without them. */
const TICKET_LOOKUP_MS = 3000;

/** The change's tickets, from the audit ledger (`change.ticket`); undefined when no database answers. */
async function ticketsOf(context: CliContext, id: string): Promise<Array<LedgerData['change.ticket']> | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const lookup = context.ledger().list({ subject: changeWorkflowId(id), kinds: ['change.ticket'] });
    const rows = await Promise.race([lookup, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), TICKET_LOOKUP_MS)))]);
    return rows?.map((row) => row.data as LedgerData['change.ticket']);
  } catch {
    // No DATABASE_URL, or PostgreSQL unreachable: the change's status is Temporal's, tickets are not known here.
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

function refused(context: CliContext, options: JsonOption, status: ChangeStatus, code: string, message: string): never {
  // JSON consumers get the refusal on stdout; people get it once, on stderr, from the CliError.
  if (options.json) context.print(true, { ok: false, code, message, state: status.state, changeId: status.changeId }, '');
  throw new CliError(`refused (${code}): ${message.replace(`${code}: `, '')}`, EXIT.failed, { code });
}

/** An approve/reject update that the workflow refused (or that found the change closed) becomes a refusal. */
async function refusedOrRethrow(context: CliContext, options: JsonOption, id: string, error: unknown): Promise<never> {
  const refusal = refusalOf(error);
  if (refusal) return refused(context, options, await statusOf(context, id), refusal.code, refusal.message);
  if (error instanceof WorkflowNotFoundError) {
    const after = await statusOf(context, id);
    return refused(context, options, after, 'not_awaiting_approval', `change ${id} is ${after.state}, not awaiting approval`);
  }
  throw error;
}

async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, EXIT.usage);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path} is not JSON: ${(error as Error).message}`, EXIT.usage);
  }
}

function parseOr<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CliError(`${what}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`, EXIT.usage);
  return parsed.data;
}
