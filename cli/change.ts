/**
 * `tollgate change …`: the change gate, as CI uses it (issue 3).
 *
 *   change submit --target TYPE/ID --file PATH --requester USER [--change-id ID] [--reason TEXT]
 *   change approve ID --approver USER [--signature HEX] [--payload-hash HASH]
 *   change reject ID --approver USER --reason TEXT
 *   change status ID
 *   change list [--state S] [--limit N]
 *   change wait ID [--timeout DURATION]
 *   change rollback ID --requester USER [--change-id ID] [--reason TEXT]
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
import { signApproval } from '../approvals/approval-hmac';
import {
  approveChange,
  ChangeIdConflictError,
  ChangeNotFoundError,
  changeStatus,
  listChanges,
  rollbackInput,
  refusalOf,
  rejectChange,
  submitChange,
  waitForOutcome,
  waitForPlan,
} from '../client/change-gate';
import { durationSchema } from '../platform/config';
import { CHANGE_STATES, METADATA_KEYS, type ChangeInput, type ChangeState, type ChangeStatus } from '../workflows/change-messages';
import { changeWorkflowId, isValidName, parseTargetAddress, RESERVED_CHANGE_ID_PREFIX, targetAddress } from '../workflows/workflow-ids';
import { CliError, EXIT, type CliContext } from './context';

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

export function registerChangeCommands(program: Command, context: CliContext): void {
  const change = program.command('change').description('submit, approve and follow gated configuration changes');

  change
    .command('submit')
    .description('submit a change: prints its ID and its plan (the same --change-id again is the same change)')
    .requiredOption('--target <TYPE/ID>', 'the configuration object, e.g. ivr/main-menu')
    .requiredOption('--file <path>', 'JSON object of the fields to set (null removes a field)')
    .requiredOption('--requester <user>', 'who asks for the change (cannot approve it)')
    .option('--change-id <id>', 'ID from CI, e.g. the pull request and commit; default chg-<uuid>')
    .option('--reason <text>', 'why')
    .option('--json', 'print JSON')
    .action(async (options: { target: string; file: string; requester: string; changeId?: string; reason?: string } & JsonOption) => {
      const target = parseTargetAddress(options.target);
      if (!target) throw new CliError(`--target must be TYPE/ID (letters, digits, ".", "_", "-"), got "${options.target}"`, EXIT.usage);
      const changeId = parseOr(changeIdSchema, options.changeId ?? `chg-${randomUUID()}`, '--change-id');
      const desired = parseOr(DesiredFieldsSchema, await readJsonFile(options.file), options.file);
      const input: ChangeInput = { changeId, target, desired, requester: options.requester, reason: options.reason };
      const status = await submitAndPlan(context, input);
      context.print(!!options.json, { workflowId: changeWorkflowId(changeId), ...status }, describeChange(status, true));
      if (status.state === 'failed') throw new CliError(`change ${changeId} failed: ${status.stateReason ?? ''}`, EXIT.failed);
    });

  change
    .command('approve <id>')
    .description('approve a change: bound to its payload hash, signed with TOLLGATE_APPROVAL_KEY unless --signature is given')
    .requiredOption('--approver <user>', 'who approves')
    .option('--signature <hex>', 'hex HMAC-SHA256(key, "<changeId>\\n<payloadHash>\\n<approver>") made elsewhere')
    .option('--payload-hash <hash>', 'the payload hash the approver reviewed (default: the plan\'s)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { approver: string; signature?: string; payloadHash?: string } & JsonOption) => {
      const client = await context.client();
      const before = await statusOf(context, id);
      const payloadHash = options.payloadHash ?? before.plan?.payloadHash;
      if (!payloadHash) return refused(context, options, before, 'not_awaiting_approval', `change ${id} has no plan yet (${before.state})`);
      let signature = options.signature;
      if (!signature) {
        const key = context.config().changeGate.approvalKey;
        if (!key) throw new CliError('no --signature given and TOLLGATE_APPROVAL_KEY is not set', EXIT.usage);
        signature = signApproval(key, id, payloadHash, options.approver);
      }
      try {
        const status = await approveChange(client, id, { approver: options.approver, payloadHash, signature });
        const count = `${status.approvals.length}/${status.requiredApprovals ?? '?'}`;
        context.print(!!options.json, { ok: true, ...status }, `approved by ${options.approver} (${count}); change ${id} is ${status.state}`);
      } catch (error) {
        return refusedOrRethrow(context, options, id, error);
      }
    });

  change
    .command('reject <id>')
    .description('reject a change (ends it); the requester rejecting withdraws it')
    .requiredOption('--approver <user>', 'who rejects')
    .requiredOption('--reason <text>', 'why')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { approver: string; reason: string } & JsonOption) => {
      const client = await context.client();
      try {
        const status = await rejectChange(client, id, { approver: options.approver, reason: options.reason });
        context.print(!!options.json, { ok: true, ...status }, `change ${id} is ${status.state}: ${status.stateReason ?? ''}`);
      } catch (error) {
        return refusedOrRethrow(context, options, id, error);
      }
    });

  change
    .command('status <id>')
    .description("a change's state, plan, approvals and deploy result")
    .option('--json', 'print JSON')
    .action(async (id: string, options: JsonOption) => {
      const status = await statusOf(context, id);
      context.print(!!options.json, { workflowId: changeWorkflowId(id), ...status }, describeChange(status, true));
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
      let result;
      try {
        result = await waitForOutcome(client, id, {
          timeoutMs,
          onProgress: (status) => process.stderr.write(`[${new Date().toISOString()}] change ${id} ${describe(status)}\n`),
        });
      } catch (error) {
        if (error instanceof ChangeNotFoundError) throw new CliError(error.message, EXIT.notFound);
        throw error;
      }
      const { outcome, status } = result;
      if (outcome === 'succeeded') {
        context.print(!!options.json, { ok: true, workflowId, ...status }, `change ${id} ${describe(status)}`);
        return;
      }
      if (outcome === 'failed') {
        context.print(!!options.json, { ok: false, workflowId, ...status }, `change ${id} ${describe(status)}`);
        throw new CliError(`change ${id} ended ${describe(status)}`, EXIT.failed, { state: status.state });
      }
      context.print(!!options.json, { ok: false, timedOut: true, workflowId, ...status }, `change ${id} ${describe(status)} (timed out)`);
      throw new CliError(`timed out after ${options.timeout}: change ${id} is still ${status.state}`, EXIT.failed, { state: status.state });
    });

  change
    .command('rollback <id>')
    .description('submit a new change that restores the fields this change touched to their pre-deploy values (same approvals)')
    .requiredOption('--requester <user>', 'who asks for the rollback')
    .option('--change-id <id>', 'default rollback-<id>')
    .option('--reason <text>', 'why')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { requester: string; changeId?: string; reason?: string } & JsonOption) => {
      const original = await statusOf(context, id);
      const changeId = parseOr(changeIdSchema, options.changeId ?? `rollback-${id}`, '--change-id');
      const input = rollbackInput(original, { changeId, requester: options.requester, reason: options.reason });
      if (!input) throw new CliError(`change ${id} is ${original.state}: only a deployed change can be rolled back`, EXIT.usage, { state: original.state });
      const status = await submitAndPlan(context, input);
      context.print(!!options.json, { workflowId: changeWorkflowId(changeId), rollbackOf: id, ...status }, describeChange(status, true));
    });
}

async function submitAndPlan(context: CliContext, input: ChangeInput): Promise<ChangeStatus> {
  const client = await context.client();
  try {
    await submitChange(client, context.config().temporal.taskQueue, input);
  } catch (error) {
    if (error instanceof ChangeIdConflictError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
  return waitForPlan(client, input.changeId);
}

async function statusOf(context: CliContext, id: string): Promise<ChangeStatus> {
  try {
    return await changeStatus(await context.client(), id);
  } catch (error) {
    if (error instanceof ChangeNotFoundError) throw new CliError(error.message, EXIT.notFound);
    throw error;
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

function describeChange(status: ChangeStatus, withPlan: boolean): string {
  const lines = [
    `change ${status.changeId} on ${targetAddress(status.target)}, requested by ${status.requester}${status.reason ? ` (${status.reason})` : ''}`,
    `state: ${status.state}${status.stateReason ? ` — ${status.stateReason}` : ''}`,
  ];
  if (status.requiredApprovals !== undefined) {
    const who = status.approvals.map((approval) => approval.approver).join(', ') || 'none yet';
    lines.push(`approvals: ${status.approvals.length}/${status.requiredApprovals} (${who})`);
  }
  if (withPlan && status.plan) {
    lines.push(`plan: base version ${status.plan.baseVersion}, payload sha256 ${status.plan.payloadHash}`);
    if (status.plan.lock) lines.push(`lock: ${status.plan.lock}`);
    for (const change of status.plan.diff) {
      lines.push(`  ${change.field}: ${show(change.from)} → ${show(change.to)}`);
    }
  }
  if (status.deploy) {
    const d = status.deploy;
    lines.push(
      `deploy: version ${d.preDeployVersion} → ${d.writtenVersion ?? '(nothing written)'}, verified ${d.verified}, ` +
        `conflicts retried ${d.conflictsRetried}, Genesys calls ${d.genesysCalls}` +
        (d.rollback ? `, rolled back to version ${d.rollback.version ?? '?'} (verified ${d.rollback.verified})` : ''),
    );
  }
  if (status.state === 'awaiting_approval') lines.push(`approve with: tollgate change approve ${status.changeId} --approver <user>`);
  return lines.join('\n');
}

function show(value: unknown): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
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
