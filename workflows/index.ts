/** Every workflow the worker registers. */
export * from './change-gate';
export * from './lifecycle';
export { ledgerRetentionWorkflow } from './ledger-retention';
export { eventDeliveryWorkflow } from './event-delivery';
