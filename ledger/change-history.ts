/**
 * A change as the audit ledger remembers it, for when Temporal no longer has its workflow (closed workflows leave
 * the namespace after its retention): the ledger's records of `change:<id>`, folded back into the ChangeStatus shape
 * `tollgate change status` prints, and audits of Genesys Cloud versions for `tollgate audit list`.
 */
import type { AuditListing } from '../client/change-gate';
import type { Approval, ChangeState, ChangeStatus } from '../workflows/change-messages';
import type { LedgerRow } from '../workflows/ledger-records';
import { parseTargetAddress } from '../workflows/workflow-ids';

/** The state each record kind leaves the change in. */
const STATE_OF: Partial<Record<string, ChangeState>> = {
  'change.submitted': 'planning',
  'change.planned': 'awaiting_approval',
  'change.refused': 'refused',
  'change.rejected': 'rejected',
  'change.withdrawn': 'cancelled',
  'change.expired': 'expired',
  'change.cancelled': 'cancelled',
  'change.deploying': 'deploying',
  'change.verified': 'deployed',
  'change.rolled_back': 'rolled_back',
  'change.diverged': 'diverged',
  'change.failed': 'failed',
  'change.audited': 'audited',
};

/** The change's status from its ledger rows (oldest first); undefined when the ledger has no submission for it. */
export function changeFromLedger(changeId: string, rows: LedgerRow[]): ChangeStatus | undefined {
  const submitted = rows.find((row) => row.kind === 'change.submitted');
  if (!submitted) return undefined;
  const data = submitted.data;
  const target = parseTargetAddress(String(data.target)) ?? { type: String(data.target), id: '' };
  const status: ChangeStatus = {
    changeId,
    namespace: '',
    runId: '',
    target,
    requester: String(data.requester),
    ...(typeof data.reason === 'string' ? { reason: data.reason } : {}),
    desired: (data.desired as Record<string, unknown>) ?? {},
    replace: false,
    state: 'planning',
    approvals: [],
    timestamps: { planning: submitted.recordedAt },
  };
  for (const row of rows) {
    const record = row.data;
    const state = STATE_OF[row.kind];
    if (state) {
      status.state = state;
      status.timestamps[state] = row.recordedAt;
    }
    switch (row.kind) {
      case 'change.planned':
        status.requiredApprovals = Number(record.requiredApprovals);
        status.plan = {
          target,
          baseVersion: Number(record.baseVersion),
          baseFields: (record.baseFields as Record<string, unknown>) ?? {},
          desired: status.desired,
          replace: false,
          diff: (record.diff as NonNullable<ChangeStatus['plan']>['diff']) ?? [],
          payload: (record.payload as Record<string, unknown>) ?? {},
          payloadHash: String(record.payloadHash),
          plannedAt: row.recordedAt,
        };
        break;
      case 'change.approved':
        status.approvals.push({
          approver: String(record.principal),
          payloadHash: String(record.payloadHash),
          approvedAt: row.recordedAt,
          via: record.via as Approval['via'],
          ...(typeof record.keyFingerprint === 'string' ? { keyFingerprint: record.keyFingerprint } : {}),
        });
        if (status.requiredApprovals !== undefined && status.approvals.length >= status.requiredApprovals) {
          status.state = 'approved';
          status.timestamps.approved = row.recordedAt;
        }
        break;
      case 'change.rejected':
      case 'change.withdrawn':
        status.rejection = { by: String(record.by), reason: String(record.reason), at: row.recordedAt };
        status.stateReason = `${row.kind === 'change.rejected' ? 'rejected' : 'withdrawn'} by ${String(record.by)}: ${String(record.reason)}`;
        break;
      case 'change.written':
        if (record.kind === 'deploy') {
          status.deploy = {
            preDeployVersion: Number(record.versionBefore),
            preDeployFields: status.plan?.baseFields ?? {},
            writtenVersion: Number(record.versionAfter),
            conflictsRetried: 0,
            genesysCalls: 0,
            verified: false,
          };
        } else if (status.deploy) {
          status.deploy.rollback = { version: Number(record.versionAfter), verified: false };
        }
        break;
      case 'change.verified':
        if (status.deploy) status.deploy.verified = true;
        if (typeof record.reason === 'string') status.stateReason = record.reason;
        break;
      case 'change.rolled_back':
        if (status.deploy) status.deploy.rollback = { version: record.rollbackVersion as number | undefined, verified: Boolean(record.verified), mismatch: record.mismatch as string[] };
        break;
      case 'change.diverged':
        status.divergedFields = record.fields as string[];
        if (typeof record.by === 'string') status.divergedBy = record.by;
        status.stateReason = String(record.reason);
        break;
      case 'change.refused':
      case 'change.cancelled':
      case 'change.failed':
        status.stateReason = String(record.reason);
        break;
      case 'change.expired':
        status.stateReason = `not approved within ${Math.round(Number(record.afterMs) / 1000)} s`;
        break;
      case 'change.audited':
        status.auditedBy = String(record.auditWorkflowId);
        status.stateReason = `audited by ${String(record.auditWorkflowId)}`;
        break;
    }
  }
  return status;
}

/** An audit verdict row as `tollgate audit list` shows it. */
export function auditFromLedger(row: LedgerRow): AuditListing {
  const record = row.data;
  return {
    workflowId: row.subject,
    target: String(record.target),
    version: Number(record.version),
    verdict: row.kind === 'audit.drift' ? 'drift' : 'approved',
    source: String(record.source),
    startTime: row.recordedAt,
    status: 'COMPLETED',
    ...(typeof record.changeId === 'string' ? { changeId: record.changeId } : {}),
    ...(typeof record.revertChangeId === 'string' ? { revertChangeId: record.revertChangeId } : {}),
  };
}
