/**
 * Which ticket each change has in a ticket system (`tollgate.change_tickets`), and the claim that makes creating it
 * safe to retry: a row is written before the create is sent, and the key after it came back. A row without a key
 * is a create whose outcome is unknown — the worker died, or the answer was lost — and the adapter looks for the
 * ticket in the ticket system before it creates another.
 */
import type { Pool } from 'pg';

export interface ChangeTicket {
  changeId: string;
  key?: string;
  url?: string;
  /** How long ago the current claim was made (the database's clock). */
  claimAgeMs: number;
}

export class TicketStore {
  constructor(private readonly pool: Pool) {}

  async get(taskQueue: string, endpoint: string, changeId: string): Promise<ChangeTicket | undefined> {
    const result = await this.pool.query<{ ticket_key: string | null; ticket_url: string | null; claim_age_ms: string }>(
      `SELECT ticket_key, ticket_url, (EXTRACT(EPOCH FROM now() - claimed_at) * 1000)::bigint AS claim_age_ms
         FROM tollgate.change_tickets WHERE task_queue = $1 AND endpoint = $2 AND change_id = $3`,
      [taskQueue, endpoint, changeId],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    return { changeId, ...(row.ticket_key ? { key: row.ticket_key } : {}), ...(row.ticket_url ? { url: row.ticket_url } : {}), claimAgeMs: Number(row.claim_age_ms) };
  }

  /** Claims (or claims again) the creation of the change's ticket, now. */
  async claim(taskQueue: string, endpoint: string, changeId: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO tollgate.change_tickets (task_queue, endpoint, change_id) VALUES ($1, $2, $3)
       ON CONFLICT (task_queue, endpoint, change_id) DO UPDATE SET claimed_at = now() WHERE tollgate.change_tickets.ticket_key IS NULL`,
      [taskQueue, endpoint, changeId],
    );
  }

  /** Drops a claim whose create the ticket system refused (nothing was created). */
  async release(taskQueue: string, endpoint: string, changeId: string): Promise<void> {
    await this.pool.query('DELETE FROM tollgate.change_tickets WHERE task_queue = $1 AND endpoint = $2 AND change_id = $3 AND ticket_key IS NULL', [
      taskQueue,
      endpoint,
      changeId,
    ]);
  }

  async record(taskQueue: string, endpoint: string, changeId: string, key: string, url: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO tollgate.change_tickets (task_queue, endpoint, change_id, ticket_key, ticket_url, created_at) VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (task_queue, endpoint, change_id) DO UPDATE SET ticket_key = EXCLUDED.ticket_key, ticket_url = EXCLUDED.ticket_url, created_at = now()`,
      [taskQueue, endpoint, changeId, key, url],
    );
  }
}
