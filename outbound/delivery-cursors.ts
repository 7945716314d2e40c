/**
 * Each endpoint's place in the audit ledger (`tollgate.event_cursors`, migrations/1764485000000_outbound-events.sql):
 * the last row it acknowledged, per deployment (task queue) and endpoint name. The cursor only moves forward, with
 * a compare-and-set, so a stale attempt (an activity the server already gave up on) cannot move it back or skip.
 */
import type { Pool } from 'pg';

export interface DeliveryCursor {
  taskQueue: string;
  endpoint: string;
  deliveredSeq: number;
  attemptingSeq?: number;
  failures: number;
  lastError?: string;
  lastErrorAt?: string;
  deliveredAt?: string;
}

interface CursorRow {
  task_queue: string;
  endpoint: string;
  delivered_seq: string;
  attempting_seq: string | null;
  failures: number;
  last_error: string | null;
  last_error_at: Date | null;
  delivered_at: Date | null;
}

function toCursor(row: CursorRow): DeliveryCursor {
  return {
    taskQueue: row.task_queue,
    endpoint: row.endpoint,
    deliveredSeq: Number(row.delivered_seq),
    ...(row.attempting_seq !== null ? { attemptingSeq: Number(row.attempting_seq) } : {}),
    failures: row.failures,
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
    ...(row.last_error_at ? { lastErrorAt: row.last_error_at.toISOString() } : {}),
    ...(row.delivered_at ? { deliveredAt: row.delivered_at.toISOString() } : {}),
  };
}

export class DeliveryCursors {
  constructor(private readonly pool: Pool) {}

  /** The endpoint's cursor, made on first use: at the ledger's head (`now`) or before its first row (`start`). */
  async open(taskQueue: string, endpoint: string, from: 'now' | 'start'): Promise<DeliveryCursor> {
    const start = from === 'now' ? '(SELECT last_seq FROM tollgate.audit_chain WHERE id = 1)' : '0';
    await this.pool.query(
      `INSERT INTO tollgate.event_cursors (task_queue, endpoint, delivered_seq) VALUES ($1, $2, ${start}) ON CONFLICT DO NOTHING`,
      [taskQueue, endpoint],
    );
    return (await this.read(taskQueue, endpoint))!;
  }

  async read(taskQueue: string, endpoint: string): Promise<DeliveryCursor | undefined> {
    const result = await this.pool.query<CursorRow>('SELECT * FROM tollgate.event_cursors WHERE task_queue = $1 AND endpoint = $2', [taskQueue, endpoint]);
    return result.rows[0] ? toCursor(result.rows[0]) : undefined;
  }

  async list(taskQueue?: string): Promise<DeliveryCursor[]> {
    const result = await this.pool.query<CursorRow>(
      `SELECT * FROM tollgate.event_cursors ${taskQueue === undefined ? '' : 'WHERE task_queue = $1'} ORDER BY task_queue, endpoint`,
      taskQueue === undefined ? [] : [taskQueue],
    );
    return result.rows.map(toCursor);
  }

  /** Notes that delivery of `seq` begins: from now on its side effects may exist. */
  async attempting(cursor: DeliveryCursor, seq: number): Promise<void> {
    await this.pool.query('UPDATE tollgate.event_cursors SET attempting_seq = $3 WHERE task_queue = $1 AND endpoint = $2', [cursor.taskQueue, cursor.endpoint, seq]);
    cursor.attemptingSeq = seq;
  }

  /** Moves the cursor from where this attempt found it to `seq`; false when someone else moved it meanwhile. */
  async advance(cursor: DeliveryCursor, seq: number, delivered: boolean): Promise<boolean> {
    if (seq <= cursor.deliveredSeq) return true;
    const result = await this.pool.query(
      `UPDATE tollgate.event_cursors
          SET delivered_seq = $4, attempting_seq = NULL, failures = 0, last_error = NULL,
              delivered_at = CASE WHEN $5 THEN now() ELSE delivered_at END
        WHERE task_queue = $1 AND endpoint = $2 AND delivered_seq = $3`,
      [cursor.taskQueue, cursor.endpoint, cursor.deliveredSeq, seq, delivered],
    );
    if (result.rowCount !== 1) return false;
    cursor.deliveredSeq = seq;
    delete cursor.attemptingSeq;
    cursor.failures = 0;
    delete cursor.lastError;
    return true;
  }

  async failed(cursor: DeliveryCursor, error: string): Promise<void> {
    await this.pool.query(
      'UPDATE tollgate.event_cursors SET failures = failures + 1, last_error = $3, last_error_at = now() WHERE task_queue = $1 AND endpoint = $2',
      [cursor.taskQueue, cursor.endpoint, error.slice(0, 2000)],
    );
  }

  /** Records an event the endpoint refused for good; the caller then moves the cursor past it. */
  async refused(cursor: DeliveryCursor, seq: number, eventType: string, reason: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO tollgate.event_refusals (task_queue, endpoint, seq, event_type, reason) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (task_queue, endpoint, seq) DO UPDATE SET reason = EXCLUDED.reason, refused_at = now()`,
      [cursor.taskQueue, cursor.endpoint, seq, eventType, reason.slice(0, 2000)],
    );
  }

  async refusals(taskQueue: string, endpoint: string): Promise<Array<{ seq: number; eventType: string; reason: string; refusedAt: string }>> {
    const result = await this.pool.query<{ seq: string; event_type: string; reason: string; refused_at: Date }>(
      'SELECT seq, event_type, reason, refused_at FROM tollgate.event_refusals WHERE task_queue = $1 AND endpoint = $2 ORDER BY seq',
      [taskQueue, endpoint],
    );
    return result.rows.map((row) => ({ seq: Number(row.seq), eventType: row.event_type, reason: row.reason, refusedAt: row.refused_at.toISOString() }));
  }
}
