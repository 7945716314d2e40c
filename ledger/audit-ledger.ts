/**
 * The audit ledger in PostgreSQL (`tollgate.audit_events`, migrations/1764480000000_audit-ledger.sql): append-only,
 * hash-chained, independent of Temporal's retention (the change seed's "Immutable Audit Trail").
 *
 * - append: under the chain head's row lock (`tollgate.audit_chain FOR UPDATE`), so any number of workers form one
 *   gapless chain; a record whose natural key is already there is returned as it is (idempotent under retries).
 *   Each row stores the canonical JSON of the whole record and hash = sha256(prev_hash + "\n" + content).
 * - verify: walks the rows in order and names the first that does not hold: a gap in `seq` (a deleted row), a
 *   `prev_hash` that is not the previous row's hash, a hash that does not match the content (an edited row), or
 *   columns that disagree with the content; then checks that the chain head is the last row (deleted tail).
 * - prune: retention of the ledger is its own setting; pruned rows leave a checkpoint (seq and hash) that anchors
 *   verification of the rows that remain.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { canonicalJson } from '../workflows/canonical-json';
import type { LedgerKind, LedgerRecord, LedgerRow } from '../workflows/ledger-records';

/** sha256('tollgate audit ledger v1'): the `prev_hash` of the first row ever written. */
export const GENESIS_HASH = 'fcf459a4bf5311bda93920ec0e070ec2ac59c7453c1a7c8646ce1b2d3043ec1f';
const LEDGER_VERSION = 1;
/** Rows per INSERT statement of an append (8 parameters a row, under PostgreSQL's 65,535). */
const INSERT_CHUNK = 1000;
/** Rows read per round trip by verify, export and list. */
const PAGE = 1000;

interface StoredRow {
  seq: string;
  recorded_at: Date;
  event_key: string;
  kind: string;
  subject: string;
  content: string;
  prev_hash: string;
  hash: string;
}

/** What the hash covers: every column but the hashes themselves, in canonical JSON. */
interface RecordContent {
  v: number;
  seq: number;
  recordedAt: string;
  key: string;
  kind: string;
  subject: string;
  data: Record<string, unknown>;
}

export function chainHash(prevHash: string, content: string): string {
  return createHash('sha256').update(`${prevHash}\n${content}`, 'utf8').digest('hex');
}

export type VerifyProblem = 'gap' | 'prev_hash_mismatch' | 'hash_mismatch' | 'content_mismatch' | 'unreadable' | 'head_mismatch';

export interface VerifyResult {
  ok: boolean;
  rowsChecked: number;
  firstSeq?: number;
  lastSeq?: number;
  /** The first row that does not hold, and why. */
  problem?: { seq: number; kind: VerifyProblem; message: string };
}

export interface LedgerFilter {
  subject?: string;
  subjectPrefix?: string;
  kinds?: LedgerKind[];
  since?: Date;
  afterSeq?: number;
  limit?: number;
}

export class AuditLedger {
  constructor(private readonly pool: Pool) {}

  /**
   * Appends the records in order (one transaction); records whose key exists are returned unchanged. Four round
   * trips whatever the number of records: the head under its lock, the keys already there, one multi-row insert,
   * the new head.
   */
  async append(records: LedgerRecord[], now: () => Date = () => new Date()): Promise<LedgerRow[]> {
    if (records.length === 0) return [];
    return this.transaction(async (client) => {
      const head = await client.query<{ last_seq: string; last_hash: string }>(
        'SELECT last_seq, last_hash FROM tollgate.audit_chain WHERE id = 1 FOR UPDATE',
      );
      let seq = Number(head.rows[0].last_seq);
      let prevHash = head.rows[0].last_hash;
      // After the lock: a concurrent append of the same key has committed by now, and is found here.
      const existing = await client.query<StoredRow>('SELECT * FROM tollgate.audit_events WHERE event_key = ANY($1::text[])', [
        [...new Set(records.map((record) => record.key))],
      ]);
      const known = new Map<string, LedgerRow>(existing.rows.map((row) => [row.event_key, toRow(row)]));
      const rows: LedgerRow[] = [];
      const inserts: unknown[][] = [];
      for (const record of records) {
        // A key already stored, or appearing twice in this batch: the first one stands.
        const found = known.get(record.key);
        if (found) {
          rows.push(found);
          continue;
        }
        seq += 1;
        const recordedAt = now().toISOString();
        const content = canonicalJson({
          v: LEDGER_VERSION,
          seq,
          recordedAt,
          key: record.key,
          kind: record.kind,
          subject: record.subject,
          data: record.data,
        } satisfies RecordContent);
        const hash = chainHash(prevHash, content);
        inserts.push([seq, recordedAt, record.key, record.kind, record.subject, content, prevHash, hash]);
        const row: LedgerRow = { ...record, seq, recordedAt, hash, prevHash };
        rows.push(row);
        known.set(record.key, row);
        prevHash = hash;
      }
      for (let start = 0; start < inserts.length; start += INSERT_CHUNK) {
        const chunk = inserts.slice(start, start + INSERT_CHUNK);
        const values = chunk.map((_, index) => `(${Array.from({ length: 8 }, (__, column) => `$${index * 8 + column + 1}`).join(', ')})`);
        await client.query(
          `INSERT INTO tollgate.audit_events (seq, recorded_at, event_key, kind, subject, content, prev_hash, hash) VALUES ${values.join(', ')}`,
          chunk.flat(),
        );
      }
      if (inserts.length > 0) await client.query('UPDATE tollgate.audit_chain SET last_seq = $1, last_hash = $2 WHERE id = 1', [seq, prevHash]);
      return rows;
    });
  }

  /** Rows in ledger order, filtered; at most `limit` (default: all). */
  async list(filter: LedgerFilter = {}): Promise<LedgerRow[]> {
    const rows: LedgerRow[] = [];
    for await (const row of this.rows(filter)) {
      rows.push(row);
      if (filter.limit !== undefined && rows.length >= filter.limit) break;
    }
    return rows;
  }

  /** Streams rows in ledger order, a page at a time (keyset pagination on `seq`). */
  async *rows(filter: LedgerFilter = {}): AsyncGenerator<LedgerRow> {
    let after = filter.afterSeq ?? 0;
    for (;;) {
      const clauses = ['seq > $1'];
      const values: unknown[] = [after];
      if (filter.subject !== undefined) {
        values.push(filter.subject);
        clauses.push(`subject = $${values.length}`);
      }
      if (filter.subjectPrefix !== undefined) {
        values.push(`${filter.subjectPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
        clauses.push(`subject LIKE $${values.length}`);
      }
      if (filter.kinds && filter.kinds.length > 0) {
        values.push(filter.kinds);
        clauses.push(`kind = ANY($${values.length})`);
      }
      if (filter.since) {
        values.push(filter.since.toISOString());
        clauses.push(`recorded_at >= $${values.length}`);
      }
      const page = await this.pool.query<StoredRow>(
        `SELECT * FROM tollgate.audit_events WHERE ${clauses.join(' AND ')} ORDER BY seq LIMIT ${PAGE}`,
        values,
      );
      for (const stored of page.rows) yield toRow(stored);
      if (page.rows.length < PAGE) return;
      after = Number(page.rows[page.rows.length - 1].seq);
    }
  }

  /** Walks the whole chain; `onProgress` hears the number of rows checked every page. */
  async verify(onProgress?: (rowsChecked: number) => void): Promise<VerifyResult> {
    // One snapshot for the whole walk: appends that commit meanwhile are neither half-seen nor taken for a
    // deleted tail (the rows and the chain head are read as of the same moment).
    return this.transaction((client) => this.verifySnapshot(client, onProgress), 'ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  private async verifySnapshot(client: PoolClient, onProgress?: (rowsChecked: number) => void): Promise<VerifyResult> {
    const checkpoint = await client.query<{ pruned_through_seq: string; hash: string }>(
      'SELECT pruned_through_seq, hash FROM tollgate.audit_checkpoints ORDER BY pruned_through_seq DESC LIMIT 1',
    );
    let expectedSeq = checkpoint.rows[0] ? Number(checkpoint.rows[0].pruned_through_seq) + 1 : 1;
    let prevHash = checkpoint.rows[0]?.hash ?? GENESIS_HASH;
    let rowsChecked = 0;
    let firstSeq: number | undefined;
    let after = expectedSeq - 1;
    const fail = (seq: number, kind: VerifyProblem, message: string): VerifyResult => ({
      ok: false,
      rowsChecked,
      firstSeq,
      lastSeq: expectedSeq - 1,
      problem: { seq, kind, message },
    });
    for (;;) {
      const page = await client.query<StoredRow>(`SELECT * FROM tollgate.audit_events WHERE seq > $1 ORDER BY seq LIMIT ${PAGE}`, [after]);
      for (const row of page.rows) {
        const seq = Number(row.seq);
        firstSeq ??= seq;
        if (seq !== expectedSeq) return fail(expectedSeq, 'gap', `row ${expectedSeq} is missing (the next row is ${seq})`);
        if (row.prev_hash !== prevHash) return fail(seq, 'prev_hash_mismatch', `row ${seq} does not follow row ${seq - 1}: its prev_hash is not that row's hash`);
        if (chainHash(row.prev_hash, row.content) !== row.hash) return fail(seq, 'hash_mismatch', `row ${seq} was altered: its content does not match its hash`);
        let content: RecordContent;
        try {
          content = JSON.parse(row.content) as RecordContent;
        } catch {
          return fail(seq, 'unreadable', `row ${seq}: its content is not JSON`);
        }
        const columnsAgree =
          content.seq === seq &&
          content.key === row.event_key &&
          content.kind === row.kind &&
          content.subject === row.subject &&
          Date.parse(content.recordedAt) === row.recorded_at.getTime();
        if (!columnsAgree) return fail(seq, 'content_mismatch', `row ${seq} was altered: its columns disagree with its hashed content`);
        prevHash = row.hash;
        expectedSeq = seq + 1;
        rowsChecked += 1;
      }
      onProgress?.(rowsChecked);
      if (page.rows.length < PAGE) break;
      after = Number(page.rows[page.rows.length - 1].seq);
    }
    const head = await client.query<{ last_seq: string; last_hash: string }>('SELECT last_seq, last_hash FROM tollgate.audit_chain WHERE id = 1');
    const lastSeq = expectedSeq - 1;
    if (Number(head.rows[0].last_seq) !== lastSeq || head.rows[0].last_hash !== prevHash) {
      return fail(lastSeq + 1, 'head_mismatch', `the chain head records row ${head.rows[0].last_seq}, but the last row is ${lastSeq}: rows at the end were deleted`);
    }
    return { ok: true, rowsChecked, firstSeq, lastSeq };
  }

  /** Deletes rows recorded before `before`, oldest first, keeping a checkpoint that anchors what remains. */
  async prune(before: Date): Promise<{ pruned: number; throughSeq?: number }> {
    return this.transaction(async (client) => {
      await client.query('SELECT 1 FROM tollgate.audit_chain WHERE id = 1 FOR UPDATE');
      // The newest row recorded before the cut, but never the chain's last row (the head must keep a row to point at).
      const cut = await client.query<{ seq: string; hash: string }>(
        `SELECT seq, hash FROM tollgate.audit_events
          WHERE recorded_at < $1 AND seq < (SELECT last_seq FROM tollgate.audit_chain WHERE id = 1)
          ORDER BY seq DESC LIMIT 1`,
        [before.toISOString()],
      );
      if (!cut.rows[0]) return { pruned: 0 };
      const throughSeq = Number(cut.rows[0].seq);
      await client.query(`SET LOCAL tollgate.ledger_prune = 'on'`);
      const deleted = await client.query('DELETE FROM tollgate.audit_events WHERE seq <= $1', [throughSeq]);
      await client.query('INSERT INTO tollgate.audit_checkpoints (pruned_through_seq, hash) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        throughSeq,
        cut.rows[0].hash,
      ]);
      return { pruned: deleted.rowCount ?? 0, throughSeq };
    });
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>, mode = ''): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(mode ? `BEGIN ${mode}` : 'BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

function toRow(stored: StoredRow): LedgerRow {
  let data: Record<string, unknown> = {};
  try {
    data = (JSON.parse(stored.content) as RecordContent).data ?? {};
  } catch {
    // An unreadable row is still listed; `verify` names it.
  }
  return {
    seq: Number(stored.seq),
    recordedAt: stored.recorded_at.toISOString(),
    key: stored.event_key,
    kind: stored.kind as LedgerKind,
    subject: stored.subject,
    data,
    hash: stored.hash,
    prevHash: stored.prev_hash,
  };
}
