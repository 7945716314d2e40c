/**
 * Every workflow ID Tollgate uses, derived from identity so that a re-sent request finds the workflow it already
 * started (SPEC, Operators). Shared by workflow code and every client; pure functions, no Temporal APIs.
 *
 *   change:<changeId>                          one change (a change ID comes from CI, or `chg-<uuid>` from the CLI)
 *   target:<type>:<id>                         one Genesys Cloud object: its deploy lock (FIFO) and its ledger
 *   audit:<type>:<id>:<version>                the audit of one version of one object, whether webhook or poll found it
 *   installation:<orgId>:<integrationId>       one installation (org + integration); both IDs follow the
 *                                              installation ID grammar below, which has no `:`, so two distinct
 *                                              installations can never share a workflow ID
 *   heartbeat:<taskQueue>                      the audit heartbeat's runs
 *   reconciliation:<taskQueue>                 the reconciliation's scheduled runs (every integration)
 */

/** One Genesys Cloud object a change targets. */
export interface TargetRef {
  type: string;
  id: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A change ID, target type or target ID: letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export function isValidName(text: string): boolean {
  return NAME.test(text) && text.length <= 200;
}

/** `TYPE/ID` → `{ type, id }`; undefined when it is not a target address. */
export function parseTargetAddress(text: string): TargetRef | undefined {
  const slash = text.indexOf('/');
  if (slash <= 0) return undefined;
  const type = text.slice(0, slash);
  const id = text.slice(slash + 1);
  return isValidName(type) && isValidName(id) ? { type, id } : undefined;
}

export function targetAddress(target: TargetRef): string {
  return `${target.type}/${target.id}`;
}

export function changeWorkflowId(changeId: string): string {
  return `change:${changeId}`;
}

export function targetWorkflowId(target: TargetRef): string {
  return `target:${target.type}:${target.id}`;
}

export function auditWorkflowId(target: TargetRef, version: number): string {
  return `audit:${target.type}:${target.id}:${version}`;
}

/** The change that reverts drift found at `version`: one per drifted version, however often it is audited. */
export function revertChangeId(target: TargetRef, version: number): string {
  return `revert-${target.type}-${target.id}-${version}`;
}

/** Change IDs the CLI refuses, because they belong to the gate itself. */
export const RESERVED_CHANGE_ID_PREFIX = 'revert-';

/**
 * The installation ID grammar: org, integration and tenant IDs (docs/lifecycle.md, "IDs"). Genesys IDs are UUIDs;
 * partners' tenant IDs look like `tenant_acme_corp`. Letters, digits, `.`, `_` and `-`, starting with a letter or a
 * digit, at most 128 characters: no control characters or NUL, no whitespace, quotes or backslashes, and none of
 * the separators of workflow IDs (`:`) or CLI addresses (`/`). Checked by zod at the receiver (400 before any
 * workflow is touched) and again before any signal-with-start, whatever sent the event.
 */
export const INSTALLATION_ID_MAX_LENGTH = 128;
const INSTALLATION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why `text` is not a valid org, integration or tenant ID, or undefined when it is. */
export function installationIdProblem(text: string): string | undefined {
  if (text.length === 0) return 'must not be empty';
  if (text.length > INSTALLATION_ID_MAX_LENGTH) return `must be at most ${INSTALLATION_ID_MAX_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(text)) return 'must not contain control characters (NUL included)';
  if (!INSTALLATION_ID.test(text)) {
    return 'may contain only letters, digits, ".", "_" and "-", starting with a letter or digit (no ":", "/", whitespace, quotes or backslashes)';
  }
  return undefined;
}

export function isInstallationId(text: string): boolean {
  return installationIdProblem(text) === undefined;
}

export class InvalidInstallationIdError extends Error {
  constructor(readonly field: string, readonly value: string, readonly problem: string) {
    super(`${field} ${JSON.stringify(value.length > 140 ? `${value.slice(0, 140)}…` : value)} ${problem}`);
    this.name = 'InvalidInstallationIdError';
  }
}

/** Throws InvalidInstallationIdError unless each named ID follows the grammar. */
export function assertInstallationIds(ids: Record<string, string>): void {
  for (const [field, value] of Object.entries(ids)) {
    const problem = installationIdProblem(value);
    if (problem) throw new InvalidInstallationIdError(field, value, problem);
  }
}

/** `installation:<orgId>:<integrationId>` (SPEC). Injective because neither ID may contain `:`. */
export function installationWorkflowId(orgId: string, integrationId: string): string {
  assertInstallationIds({ orgId, integrationId });
  return `installation:${orgId}:${integrationId}`;
}

/** `ORG/INTEGRATION` → its two IDs; undefined unless both follow the grammar. */
export function parseInstallationAddress(text: string): { orgId: string; integrationId: string } | undefined {
  const parts = text.split('/');
  if (parts.length !== 2) return undefined;
  const [orgId, integrationId] = parts as [string, string];
  return isInstallationId(orgId) && isInstallationId(integrationId) ? { orgId, integrationId } : undefined;
}

export function heartbeatWorkflowId(taskQueue: string): string {
  return `heartbeat:${taskQueue}`;
}

/** The scheduled reconciliation of every integration whose installations run on `taskQueue`. */
export function reconciliationWorkflowId(taskQueue: string): string {
  return `reconciliation:${taskQueue}`;
}

/** A reconciliation an operator asked for (`tollgate installation reconcile`), unique per request; `scope` is the
 * integration, or `all`. */
export function manualReconciliationWorkflowId(scope: string, at: Date): string {
  return `reconciliation:${scope}:manual-${at.toISOString()}`;
}
