/**
 * How workflow code appends to the audit ledger: a local activity (activities/ledger.ts), so a record costs one
 * database write in the worker already running the workflow and no round trip to the Temporal server. It retries
 * for minutes (a database restart); if it still cannot write, the workflow logs the loss loudly and goes on — a
 * deploy or a teardown never waits on the audit trail, and `tollgate audit verify` still proves what was written.
 */
import { isCancellation, log, proxyLocalActivities } from '@temporalio/workflow';
import type { LedgerActivities } from '../activities/ledger';
import { describeFailure } from './failures';
import type { LedgerRecord } from './ledger-records';

const { appendLedgerRecords } = proxyLocalActivities<LedgerActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 12 },
});

export async function appendToLedger(records: LedgerRecord[]): Promise<void> {
  if (records.length === 0) return;
  try {
    await appendLedgerRecords(records);
  } catch (error) {
    if (isCancellation(error)) throw error;
    log.error('AUDIT LEDGER WRITE LOST: records could not be appended', { keys: records.map((record) => record.key), error: describeFailure(error) });
  }
}
