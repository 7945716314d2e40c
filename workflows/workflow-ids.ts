/**
 * Every workflow ID Tollgate uses, derived from identity so that a re-sent request finds the workflow it already
 * started (SPEC, Operators). Shared by workflow code and every client; pure functions, no Temporal APIs.
 *
 *   change:<changeId>                          one change (a change ID comes from CI, or `chg-<uuid>` from the CLI)
 *   target:<type>:<id>                         one Genesys Cloud object: its deploy lock (FIFO) and its ledger
 *   audit:<type>:<id>:<version>                the audit of one version of one object, whether webhook, poll, the Audit
 *                                              API or a notification channel found it
 *   installation:<orgId>:<integrationId>       one installation (org + integration); both IDs follow the
 *                                              installation ID grammar below, which has no `:`, so two distinct
 *                                              installations can never share a workflow ID
 *   heartbeat:<taskQueue>                      the audit heartbeat's runs
 *   reconciliation:<taskQueue>                 the reconciliation's scheduled runs (every integration)
 *   event-delivery:<taskQueue>:<endpoint>      the delivery of the outbound change events to one endpoint
 *
 * A target address is `TYPE/ID`, the ID being everything after the first `/`. Most IDs are plain names. A data
 * table row (`datatable.row`) has a two-part ID, `TABLEID/ROWKEY`: the table ID is a plain name (it never holds a
 * `/`), so the row key is everything after the ID's own first `/` — it may hold any printable character, `/` and `:`
 * included, and the address still reads one way only. Inside workflow IDs, whose parts are separated by `:`, an ID's
 * `%` and `:` are percent-encoded, so `target:<type>:<id>` and `audit:<type>:<id>:<version>` split one way only;
 * plain names contain neither and read as before.
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

/** Target types whose ID is `<container>/<key>`: a data table row is `TABLEID/ROWKEY`. */
export const COMPOSITE_ID_TYPES: readonly string[] = ['datatable.row'];

/** A row key: 1–200 characters, no control characters, no spaces around it. */
function isValidRowKey(key: string): boolean {
  if (key.length === 0 || key.length > 200 || key.trim() !== key) return false;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

/** `TABLEID/ROWKEY` → its two parts (the key is everything after the first `/`). */
export function splitCompositeId(id: string): { container: string; key: string } | undefined {
  const slash = id.indexOf('/');
  if (slash <= 0) return undefined;
  const container = id.slice(0, slash);
  const key = id.slice(slash + 1);
  return isValidName(container) && isValidRowKey(key) ? { container, key } : undefined;
}

/** Whether `id` is a valid ID of an object of `type`. */
export function isValidTargetId(type: string, id: string): boolean {
  return COMPOSITE_ID_TYPES.includes(type) ? splitCompositeId(id) !== undefined : isValidName(id);
}

/** `TYPE/ID` → `{ type, id }`; undefined when it is not a target address. The ID is everything after the first `/`. */
export function parseTargetAddress(text: string): TargetRef | undefined {
  const slash = text.indexOf('/');
  if (slash <= 0) return undefined;
  const type = text.slice(0, slash);
  const id = text.slice(slash + 1);
  return isValidName(type) && isValidTargetId(type, id) ? { type, id } : undefined;
}

/** An ID as one `:`-separated part of a workflow ID: `%` and `:` percent-encoded (plain names are unchanged). */
function idPart(id: string): string {
  return id.replace(/[%:]/g, (char) => (char === '%' ? '%25' : '%3A'));
}

export function targetAddress(target: TargetRef): string {
  return `${target.type}/${target.id}`;
}

export function changeWorkflowId(changeId: string): string {
  return `change:${changeId}`;
}

export function targetWorkflowId(target: TargetRef): string {
  return `target:${target.type}:${idPart(target.id)}`;
}

export function auditWorkflowId(target: TargetRef, version: number): string {
  return `audit:${target.type}:${idPart(target.id)}:${version}`;
}

/** The change that reverts drift found at `version`: one per drifted version, however often it is audited. A change
 * ID is a plain name, so an ID that is not one (a row key) is replaced by a readable form plus a hash of the real one. */
export function revertChangeId(target: TargetRef, version: number): string {
  const id = isValidName(target.id) ? target.id : `${target.id.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 80)}-${fnv1a(target.id)}`;
  return `revert-${target.type}-${id}-${version}`;
}

/** 32-bit FNV-1a as 8 hex digits: deterministic and dependency-free (workflow code uses it). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
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

/** The loop that delivers outbound change events to one endpoint of the deployment on `taskQueue`. */
export function eventDeliveryWorkflowId(taskQueue: string, endpoint: string): string {
  return `event-delivery:${taskQueue}:${endpoint}`;
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
