/**
 * The one text a person signs (seed 000: "a signed approval token"), versioned and canonical, so that a laptop, a
 * Jira or ServiceNow automation or a Slack bot can print it (`tollgate change statement`), sign it with
 * `ssh-keygen -Y sign -n tollgate`, and hand over the signature. It names everything a decision is about, so a
 * signature never moves: the Temporal namespace, the change ID, the change workflow's run ID (a later change under
 * the same ID is another run), the target, the plan's base version and payload hash, the decision and the
 * principal. A submission is signed before its run and plan exist, so its statement names the request instead
 * (the hash of the requested fields) and the pull request it is linked to, if any.
 *
 *   tollgate-statement v1            tollgate-statement v1
 *   namespace: default               namespace: default
 *   change: pr-42-ivr-main           change: pr-42-ivr-main
 *   run: 3f1c…                       target: ivr/main-menu
 *   target: ivr/main-menu            request-sha256: 9a0e…
 *   base-version: 7                  pull-request: none
 *   payload-sha256: 5b2d…            decision: submit
 *   decision: approve                principal: alice
 *   principal: bob
 *
 * Lines end with "\n" (the last one too), no "\r", keys in this order, nothing else. Pure: the workflow's update
 * validators parse a presented statement to say exactly which field is wrong; the signature itself is checked by
 * an activity (approvals/sshsig.ts), never in workflow code.
 */
import { isValidName, parseTargetAddress, targetAddress, type TargetRef } from '../workflows/workflow-ids';
import { canonicalPrincipal } from './principal';

export const STATEMENT_HEADER = 'tollgate-statement v1';
/** The SSHSIG namespace every Tollgate signature is made in (`ssh-keygen -Y sign -n tollgate`). */
export const SIGNATURE_NAMESPACE = 'tollgate';

export const DECISIONS = ['approve', 'reject', 'submit'] as const;
export type Decision = (typeof DECISIONS)[number];

/** An approval or a rejection of one run of one change, bound to its plan. */
export interface DecisionStatement {
  decision: 'approve' | 'reject';
  namespace: string;
  changeId: string;
  runId: string;
  target: TargetRef;
  baseVersion: number;
  payloadHash: string;
  principal: string;
}

/** A requester's submission: made before the run and the plan exist. */
export interface SubmitStatement {
  decision: 'submit';
  namespace: string;
  changeId: string;
  target: TargetRef;
  /** sha256 hex of the canonical JSON of what is requested (approvals/submission.ts). */
  requestHash: string;
  /** `owner/repo#N:path` of the linked pull request, or undefined (`none`). */
  pullRequest?: string;
  principal: string;
}

export type Statement = DecisionStatement | SubmitStatement;

const DECISION_KEYS = ['namespace', 'change', 'run', 'target', 'base-version', 'payload-sha256', 'decision', 'principal'] as const;
const SUBMIT_KEYS = ['namespace', 'change', 'target', 'request-sha256', 'pull-request', 'decision', 'principal'] as const;
const HEX64 = /^[0-9a-f]{64}$/;
// A value is one line of printable text without leading or trailing blanks.
// eslint-disable-next-line no-control-regex
const VALUE = /^[^\s\u0000-\u001f\u007f](?:[^\u0000-\u001f\u007f]*[^\s\u0000-\u001f\u007f])?$/;

export class StatementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StatementError';
  }
}

/** The canonical text of a statement; throws StatementError when a value cannot be in one. */
export function renderStatement(statement: Statement): string {
  const principal = canonicalPrincipal(statement.principal);
  if (!principal) throw new StatementError(`not a principal: ${JSON.stringify(statement.principal)}`);
  const lines: Array<[string, string]> = [
    ['namespace', statement.namespace],
    ['change', statement.changeId],
  ];
  if (statement.decision === 'submit') {
    lines.push(
      ['target', targetAddress(statement.target)],
      ['request-sha256', statement.requestHash],
      ['pull-request', statement.pullRequest ?? 'none'],
    );
  } else {
    if (!Number.isSafeInteger(statement.baseVersion) || statement.baseVersion < 0) throw new StatementError(`not a base version: ${statement.baseVersion}`);
    lines.push(
      ['run', statement.runId],
      ['target', targetAddress(statement.target)],
      ['base-version', String(statement.baseVersion)],
      ['payload-sha256', statement.payloadHash],
    );
  }
  lines.push(['decision', statement.decision], ['principal', principal]);
  for (const [key, value] of lines) {
    if (typeof value !== 'string' || !VALUE.test(value)) throw new StatementError(`${key}: not a value a statement can hold: ${JSON.stringify(value)}`);
  }
  if (!isValidName(statement.changeId)) throw new StatementError(`change: not a change ID: ${JSON.stringify(statement.changeId)}`);
  const hash = statement.decision === 'submit' ? statement.requestHash : statement.payloadHash;
  if (!HEX64.test(hash)) throw new StatementError(hashProblem(hash));
  return `${STATEMENT_HEADER}\n${lines.map(([key, value]) => `${key}: ${value}`).join('\n')}\n`;
}

/** Why a hash is not a sha256 hex digest: its length or its characters, said plainly. */
export function hashProblem(hash: unknown): string {
  if (typeof hash !== 'string') return 'the hash must be 64 lower-case hex characters (sha256)';
  if (hash.length !== 64) return `the hash is ${hash.length} characters; a sha256 hash is 64 lower-case hex characters`;
  return 'the hash holds characters other than lower-case hex (0-9, a-f)';
}

export type ParsedStatement = { ok: true; statement: Statement } | { ok: false; problem: string };

/** Reads a presented statement strictly: anything but the canonical layout is refused with the reason. */
export function parseStatement(text: unknown): ParsedStatement {
  const fail = (problem: string): ParsedStatement => ({ ok: false, problem });
  if (typeof text !== 'string') return fail('the statement is not text');
  if (text.length > 4096) return fail('the statement is longer than 4096 characters');
  if (text.includes('\r')) return fail('the statement has a carriage return (lines end with "\\n" only)');
  if (!text.endsWith('\n')) return fail('the statement must end with a newline');
  const [header, ...rest] = text.slice(0, -1).split('\n');
  if (header !== STATEMENT_HEADER) return fail(`the first line must be "${STATEMENT_HEADER}"`);
  const values = new Map<string, string>();
  const keys: string[] = [];
  for (const line of rest) {
    const match = /^([a-z0-9-]+): (.*)$/.exec(line);
    if (!match) return fail(`not a "key: value" line: ${JSON.stringify(line)}`);
    if (values.has(match[1])) return fail(`${match[1]} appears twice`);
    if (!VALUE.test(match[2])) return fail(`${match[1]}: not a value a statement can hold`);
    keys.push(match[1]);
    values.set(match[1], match[2]);
  }
  const decision = values.get('decision');
  if (!decision || !(DECISIONS as readonly string[]).includes(decision)) return fail(`decision must be one of ${DECISIONS.join(', ')}`);
  const expectedKeys: readonly string[] = decision === 'submit' ? SUBMIT_KEYS : DECISION_KEYS;
  if (keys.join(',') !== expectedKeys.join(',')) return fail(`a ${decision} statement has exactly these lines, in order: ${expectedKeys.join(', ')}`);
  const target = parseTargetAddress(values.get('target')!);
  if (!target) return fail('target: not TYPE/ID');
  const principal = canonicalPrincipal(values.get('principal'));
  if (!principal || principal !== values.get('principal')) return fail('principal: not a canonical principal (trimmed, lower case)');
  let statement: Statement;
  if (decision === 'submit') {
    const pullRequest = values.get('pull-request')!;
    statement = {
      decision,
      namespace: values.get('namespace')!,
      changeId: values.get('change')!,
      target,
      requestHash: values.get('request-sha256')!,
      ...(pullRequest === 'none' ? {} : { pullRequest }),
      principal,
    };
  } else {
    const baseVersion = values.get('base-version')!;
    if (!/^(0|[1-9][0-9]{0,15})$/.test(baseVersion)) return fail('base-version: not a version number');
    statement = {
      decision: decision as 'approve' | 'reject',
      namespace: values.get('namespace')!,
      changeId: values.get('change')!,
      runId: values.get('run')!,
      target,
      baseVersion: Number(baseVersion),
      payloadHash: values.get('payload-sha256')!,
      principal,
    };
  }
  try {
    if (renderStatement(statement) !== text) return fail('the statement is not in canonical form');
  } catch (error) {
    return fail((error as Error).message);
  }
  return { ok: true, statement };
}

/** Refusal codes of a presented statement that does not match the decision it is offered for. */
export type StatementMismatchCode =
  | 'malformed_statement'
  | 'wrong_namespace'
  | 'wrong_change'
  | 'wrong_run'
  | 'wrong_target'
  | 'wrong_base_version'
  | 'wrong_payload_hash'
  | 'wrong_decision'
  | 'principal_mismatch';

/**
 * Compares the statement someone signed with the one this decision needs, field by field in a fixed order, and
 * names the first difference: a signature for another change, another run of the same change ID, another base
 * version or another payload is refused with its own code, before any signature is checked.
 */
export function statementMismatch(presented: unknown, expected: DecisionStatement): { code: StatementMismatchCode; message: string } | undefined {
  const parsed = parseStatement(presented);
  if (!parsed.ok) return { code: 'malformed_statement', message: parsed.problem };
  const got = parsed.statement;
  if (got.namespace !== expected.namespace) return { code: 'wrong_namespace', message: `the statement is for namespace ${got.namespace}, this change runs in ${expected.namespace}` };
  if (got.changeId !== expected.changeId) return { code: 'wrong_change', message: `the statement is for change ${got.changeId}, not ${expected.changeId}` };
  if (got.decision === 'submit') return { code: 'wrong_decision', message: `the statement is a submission, not ${expected.decision === 'approve' ? 'an approval' : 'a rejection'}` };
  if (got.runId !== expected.runId) return { code: 'wrong_run', message: `the statement is for run ${got.runId} of change ${got.changeId}, the change's run is ${expected.runId}` };
  if (targetAddress(got.target) !== targetAddress(expected.target)) return { code: 'wrong_target', message: `the statement is for ${targetAddress(got.target)}, not ${targetAddress(expected.target)}` };
  if (got.baseVersion !== expected.baseVersion) return { code: 'wrong_base_version', message: `the statement is for base version ${got.baseVersion}, the plan's is ${expected.baseVersion}` };
  if (got.payloadHash !== expected.payloadHash) return { code: 'wrong_payload_hash', message: `the statement is for payload ${got.payloadHash.slice(0, 12)}, the plan's payload is ${expected.payloadHash.slice(0, 12)}` };
  if (got.decision !== expected.decision) return { code: 'wrong_decision', message: `the statement says ${got.decision}, this is ${expected.decision === 'approve' ? 'an approval' : 'a rejection'}` };
  if (got.principal !== canonicalPrincipal(expected.principal)) return { code: 'principal_mismatch', message: `the statement is signed as ${got.principal}, presented as ${expected.principal}` };
  return undefined;
}
