/**
 * Reading the audit ledger from a test: the rows of one subject (a change's `change:<id>`), through a small pool on
 * the stack's database, closed when the test file ends.
 */
import { Pool } from 'pg';
import { AuditLedger } from '../ledger/audit-ledger';
import type { LedgerKind, LedgerRow } from '../workflows/ledger-records';
import type { TestStack } from './harness/stack';

const pools = new Map<string, Pool>();

afterAll(async () => {
  await Promise.all([...pools.values()].map((pool) => pool.end()));
  pools.clear();
});

export function ledgerOf(stack: TestStack): AuditLedger {
  let pool = pools.get(stack.databaseUrl);
  if (!pool) {
    pool = new Pool({ connectionString: stack.databaseUrl, max: 2 });
    pools.set(stack.databaseUrl, pool);
  }
  return new AuditLedger(pool);
}

export async function ledgerRowsOf(stack: TestStack, subject: string, kinds?: LedgerKind[]): Promise<LedgerRow[]> {
  return ledgerOf(stack).list({ subject, ...(kinds ? { kinds } : {}) });
}
