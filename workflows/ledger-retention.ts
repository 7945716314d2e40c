/**
 * The audit ledger's own retention (TOLLGATE_LEDGER_RETENTION), run daily by a Schedule
 * (schedules/ledger-retention.ts) when a retention is configured: rows older than it are pruned in order, leaving a
 * checkpoint that anchors verification of what remains. Independent of Temporal's namespace retention.
 */
import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { LedgerActivities } from '../activities/ledger';

const { pruneLedger } = proxyActivities<LedgerActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes', maximumAttempts: 5 },
});

export async function ledgerRetentionWorkflow(): Promise<{ pruned: number; throughSeq?: number }> {
  const result = await pruneLedger();
  setCurrentDetails(`**pruned** ${result.pruned} rows${result.throughSeq !== undefined ? ` through row ${result.throughSeq}` : ''}`);
  return result;
}
