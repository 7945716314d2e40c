/**
 * The `ApplicationFailure` types that cross the line between Tollgate's workflows (or activities) and the clients
 * that match them (CLI, tests, operators' alerts), defined once: no failure type is a string literal in two places.
 * Pure constants and a pure helper, safe for workflow code.
 */
export const FailureType = {
  /** An approval the policy refuses (self-approval, unknown or duplicate approver, wrong payload hash, …). */
  ApprovalRefused: 'ApprovalRefused',
  /** An approval whose signature does not verify. */
  BadApprovalSignature: 'BadApprovalSignature',
  /** A rejection the policy refuses. */
  RejectionRefused: 'RejectionRefused',
  /** A change that tries to set fields a change may not set. */
  InvalidChange: 'InvalidChange',
  /** The target object does not exist in Genesys Cloud (genesys/errors.ts names it after its error class). */
  GenesysNotFound: 'GenesysNotFoundError',
  /** A middleware tenant that exists and belongs to another installation. */
  TenantOwnedByAnotherInstallation: 'TenantOwnedByAnotherInstallation',
  /** A tenant schema that exists and belongs to another installation (its `tenant_info` row says whose it is). */
  SchemaOwnedByAnotherInstallation: 'SchemaOwnedByAnotherInstallation',
  /** A CRM connection that exists and belongs to another installation. */
  CrmConnectionOwnedByAnotherInstallation: 'CrmConnectionOwnedByAnotherInstallation',
  /** A tenant update found no tenant. */
  TenantMissing: 'TenantMissing',
  /** No CRM client secret is configured on the worker. */
  CrmSecretMissing: 'CrmSecretMissing',
  /** The CRM refused the worker's client secret (lifecycle seed, Edge Case 2). */
  CrmSecretRejected: 'CrmSecretRejected',
  /** A partner system refused a request (a 4xx that retrying cannot change). */
  PartnerRequestRejected: 'PartnerRequestRejected',
  /** A partner system answered 429. */
  PartnerRateLimited: 'PartnerRateLimited',
  /** The installation inventory (tollgate.installations) could not be read or written. */
  InventoryUnavailable: 'InventoryUnavailable',
  /** PostgreSQL could not be reached (retryable). */
  DatabaseUnavailable: 'DatabaseUnavailable',
  /** An outbound event endpoint (a webhook, Jira) did not take an event; retried after its Retry-After or backoff. */
  EventDeliveryFailed: 'EventDeliveryFailed',
  /** A change that ended `failed` (the deploy could not finish, or its rollback did not verify): the change workflow
   * ends as a failure, its final ChangeStatus in the failure's details (docs/operations.md, "Failed workflows"). */
  ChangeFailed: 'ChangeFailed',
  /** A change whose write read back wrong and was rolled back by the gate (`rolled_back`): a workflow failure too. */
  ChangeRolledBack: 'ChangeRolledBack',
} as const;
export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

/** The failures that say "this resource exists and is someone else's": the install never adopts it. */
export const OWNERSHIP_FAILURE_TYPES: readonly string[] = [
  FailureType.TenantOwnedByAnotherInstallation,
  FailureType.SchemaOwnedByAnotherInstallation,
  FailureType.CrmConnectionOwnedByAnotherInstallation,
];

/** The failure types a change workflow ends with when an operator must act; their first detail is the ChangeStatus. */
export const CHANGE_OUTCOME_FAILURE_TYPES: readonly string[] = [FailureType.ChangeFailed, FailureType.ChangeRolledBack];

/** The failure types an approve or reject update is refused with: the CLI turns them into exit code 1. */
export const REFUSAL_TYPES: readonly string[] = [FailureType.ApprovalRefused, FailureType.BadApprovalSignature, FailureType.RejectionRefused];

/**
 * The failure that says what went wrong: an ActivityFailure (or ChildWorkflowFailure) wraps the ApplicationFailure
 * thrown inside. This follows `cause` (a few levels at most) to the first failure that has a type, else to the
 * innermost one, and returns its type and message.
 */
export function rootFailure(error: unknown): { type?: string; message: string } {
  let current: unknown = error;
  for (let depth = 0; depth < 3; depth++) {
    if (typeof (current as { type?: unknown } | undefined)?.type === 'string') break;
    const cause = (current as { cause?: unknown } | undefined)?.cause;
    if (!cause) break;
    current = cause;
  }
  const failure = current as { type?: unknown; message?: unknown } | undefined;
  return {
    ...(typeof failure?.type === 'string' ? { type: failure.type } : {}),
    message: typeof failure?.message === 'string' ? failure.message : String(error),
  };
}

/** `Type: message`, or the message alone when the failure has no type. */
export function describeFailure(error: unknown): string {
  const { type, message } = rootFailure(error);
  return type ? `${type}: ${message}` : message;
}
