/** Change gate workflows (issue 3): one change, one object's lock and ledger, one audit, the heartbeat. */
export { changeWorkflow } from './change';
export { targetWorkflow } from './target';
export { auditWorkflow } from './audit';
export { heartbeatWorkflow } from './heartbeat';
