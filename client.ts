/**
 * Tollgate's Temporal client, the fourth Temporal role beside workflows/, activities/ and worker.ts. Everything
 * that starts, signals, updates, queries or lists workflows from outside goes through client/:
 *   client/connection.ts     the connection (dev server, cluster with mTLS, Temporal Cloud)
 *   client/change-gate.ts    changes, the per-object target workflows, audits
 *   client/installations.ts  lifecycle installations and reconciliation
 *   client/visibility.ts     the one way a value enters a visibility query
 *   client/event-delivery.ts the outbound change events' delivery workflows (one per endpoint)
 */
export * from './client/connection';
export * from './client/change-gate';
export * from './client/installations';
export * from './client/visibility';
export * from './client/event-delivery';
