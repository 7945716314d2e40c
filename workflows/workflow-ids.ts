/**
 * Every workflow ID Tollgate uses, derived from identity so that a re-sent request finds the workflow it already
 * started (SPEC, Operators). Shared by workflow code and every client; pure functions, no Temporal APIs.
 *
 *   change:<changeId>                          one change (a change ID comes from CI, or `chg-<uuid>` from the CLI)
 *   target:<type>:<id>                         one Genesys Cloud object: its deploy lock (FIFO) and its ledger
 *   audit:<type>:<id>:<version>                the audit of one version of one object, whether webhook or poll found it
 *   installation:<orgId>:<integrationId>       one installation (org + integration)
 *   heartbeat:<taskQueue>                      the audit heartbeat's runs
 *   reconciliation:<integrationId>             the reconciliation's scheduled runs
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

export function installationWorkflowId(orgId: string, integrationId: string): string {
  return `installation:${orgId}:${integrationId}`;
}

export function heartbeatWorkflowId(taskQueue: string): string {
  return `heartbeat:${taskQueue}`;
}

export function reconciliationWorkflowId(integrationId: string): string {
  return `reconciliation:${integrationId}`;
}

/** A reconciliation an operator asked for (`tollgate installation reconcile`), unique per request. */
export function manualReconciliationWorkflowId(integrationId: string, at: Date): string {
  return `reconciliation:${integrationId}:manual-${at.toISOString()}`;
}
