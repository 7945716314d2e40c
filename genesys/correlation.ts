/**
 * Genesys Cloud names every request it answers with an `ININ-Correlation-Id` response header: the ID its support
 * asks for, and the one the audit ledger records for each write (issue 10: "each write: version before/after,
 * Genesys request/correlation ID"). The client is shared by concurrent activities, so the IDs a piece of work's
 * requests received are collected in an AsyncLocalStorage scope around that work.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export const CORRELATION_HEADER = 'inin-correlation-id';

const scope = new AsyncLocalStorage<string[]>();

/** Runs `work`; resolves with its result and the correlation IDs of the Genesys answers it received, in order. */
export async function withCorrelationIds<T>(work: () => Promise<T>): Promise<{ result: T; correlationIds: string[] }> {
  const ids: string[] = [];
  const result = await scope.run(ids, work);
  return { result, correlationIds: ids };
}

/** Called by the client for every answer (success or error) that carried the header. */
export function noteCorrelationId(headers: Record<string, string | string[] | undefined>): void {
  const value = headers[CORRELATION_HEADER];
  const id = Array.isArray(value) ? value[0] : value;
  if (id) scope.getStore()?.push(id);
}
