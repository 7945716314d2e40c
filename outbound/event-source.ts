/**
 * The delivery loop's view of the audit ledger: its head, the outbound rows after a cursor (in ledger order, a page
 * at a time), and each row as an event, with the target of its change looked up from the change's
 * `change.submitted` row (remembered: a change's target never changes). The ledger assigns `seq` and moves its head
 * in the same transaction, under one lock, so every row up to the head is committed and none can appear behind it
 * later: a cursor never steps over a row that was still being written.
 */
import type { Pool } from 'pg';
import { AuditLedger } from '../ledger/audit-ledger';
import type { LedgerRow } from '../workflows/ledger-records';
import { changeIdOfSubject, OUTBOUND_KINDS, toChangeEvent, type ChangeEvent } from './change-events';

/** Rows read per round trip. */
export const EVENT_PAGE = 200;
/** Changes whose target is remembered. */
const REMEMBERED_TARGETS = 10_000;

export class ChangeEventSource {
  readonly ledger: AuditLedger;
  private readonly targets = new Map<string, string>();

  constructor(private readonly pool: Pool) {
    this.ledger = new AuditLedger(pool);
  }

  /** The last row's seq (0 for an empty ledger). */
  async head(): Promise<number> {
    const result = await this.pool.query<{ last_seq: string }>('SELECT last_seq FROM tollgate.audit_chain WHERE id = 1');
    return Number(result.rows[0]?.last_seq ?? 0);
  }

  /** Outbound rows after `afterSeq`, at most one page; `complete` when no outbound row up to `throughSeq` is left out. */
  async page(afterSeq: number, throughSeq: number): Promise<{ rows: LedgerRow[]; complete: boolean }> {
    const rows = await this.ledger.list({ afterSeq, kinds: [...OUTBOUND_KINDS], limit: EVENT_PAGE });
    const upTo = rows.filter((row) => row.seq <= throughSeq);
    return { rows: upTo, complete: rows.length < EVENT_PAGE || upTo.length < rows.length };
  }

  async toEvent(row: LedgerRow): Promise<ChangeEvent> {
    const changeId = changeIdOfSubject(row.subject);
    return toChangeEvent(row, changeId ? { target: await this.targetOf(row.subject, row) } : {});
  }

  private async targetOf(subject: string, row: LedgerRow): Promise<string | undefined> {
    if (row.kind === 'change.submitted' && typeof row.data.target === 'string') return row.data.target;
    const known = this.targets.get(subject);
    if (known) return known;
    const [submitted] = await this.ledger.list({ subject, kinds: ['change.submitted'], limit: 1 });
    const target = typeof submitted?.data.target === 'string' ? submitted.data.target : undefined;
    if (target) {
      if (this.targets.size >= REMEMBERED_TARGETS) this.targets.delete(this.targets.keys().next().value!);
      this.targets.set(subject, target);
    }
    return target;
  }
}
