/**
 * A deliberately incompatible build of Tollgate's workflows, for test/replay.test.ts only (never shipped): every
 * workflow starts with a one-second timer the recorded histories do not have, the kind of reordering a routine
 * change can bring. Replaying a recorded history against it must fail with a determinism error.
 */
import { sleep } from '@temporalio/workflow';
import * as current from '../../workflows';

type Workflow = (...args: never[]) => Promise<unknown>;

function withTimerFirst<W extends Workflow>(workflow: W): W {
  return (async (...args: Parameters<W>) => {
    await sleep('1 second');
    return workflow(...args);
  }) as W;
}

export const changeWorkflow = withTimerFirst(current.changeWorkflow);
export const targetWorkflow = withTimerFirst(current.targetWorkflow);
export const auditWorkflow = withTimerFirst(current.auditWorkflow);
export const heartbeatWorkflow = withTimerFirst(current.heartbeatWorkflow);
export const installationWorkflow = withTimerFirst(current.installationWorkflow);
export const reconciliationWorkflow = withTimerFirst(current.reconciliationWorkflow);
export const ledgerRetentionWorkflow = withTimerFirst(current.ledgerRetentionWorkflow);
export const eventDeliveryWorkflow = withTimerFirst(current.eventDeliveryWorkflow);
