/**
 * The same change as test/replay/incompatible-workflows.ts, made the way docs/decisions.md's versioning policy
 * requires: behind `patched()`. Histories recorded before the change replay without the timer; new runs get it.
 * For test/replay.test.ts only (never shipped).
 */
import { patched, sleep } from '@temporalio/workflow';
import * as current from '../../workflows';

type Workflow = (...args: never[]) => Promise<unknown>;

function withPatchedTimerFirst<W extends Workflow>(workflow: W): W {
  return (async (...args: Parameters<W>) => {
    if (patched('timer-first')) await sleep('1 second');
    return workflow(...args);
  }) as W;
}

export const changeWorkflow = withPatchedTimerFirst(current.changeWorkflow);
export const targetWorkflow = withPatchedTimerFirst(current.targetWorkflow);
export const auditWorkflow = withPatchedTimerFirst(current.auditWorkflow);
export const heartbeatWorkflow = withPatchedTimerFirst(current.heartbeatWorkflow);
export const installationWorkflow = withPatchedTimerFirst(current.installationWorkflow);
export const reconciliationWorkflow = withPatchedTimerFirst(current.reconciliationWorkflow);
export const ledgerRetentionWorkflow = withPatchedTimerFirst(current.ledgerRetentionWorkflow);
export const eventDeliveryWorkflow = withPatchedTimerFirst(current.eventDeliveryWorkflow);
