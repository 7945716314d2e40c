/**
 * The audit ledger (ledger/audit-ledger.ts; the change seed's "Immutable Audit Trail"), in a database of its own on
 * the run's real PostgreSQL: append-only and idempotent, one gapless chain from many writers, and `tollgate audit
 * verify` / `export` as an auditor runs them — a row edited or deleted by hand is found and named.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'pg';
import { AuditLedger } from '../ledger/audit-ledger';
import type { LedgerRecord } from '../workflows/ledger-records';
import { createTestDatabase, type TestDatabase } from './harness/database';

const ROOT = join(__dirname, '..');

let database: TestDatabase;
let pool: Pool;
let ledger: AuditLedger;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new Pool({ connectionString: database.url, max: 4 });
  ledger = new AuditLedger(pool);
});
afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

const record = (key: string, data: Record<string, unknown> = {}): LedgerRecord => ({
  key,
  kind: 'change.approved',
  subject: `change:${key.split(':')[1] ?? key}`,
  data: { principal: 'bob', ...data },
});

/** `tollgate audit …` against this test's database, as an auditor runs it. */
function tollgate(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'tollgate.js'), ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: database.url, TOLLGATE_HOME: join(ROOT, '.tollgate', 'no-sandbox') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `work` with the append-only trigger off, as someone with owner rights on the database would. */
async function asDatabaseOwner(work: (client: Pool) => Promise<unknown>): Promise<void> {
  await pool.query('ALTER TABLE tollgate.audit_events DISABLE TRIGGER audit_events_append_only');
  try {
    await work(pool);
  } finally {
    await pool.query('ALTER TABLE tollgate.audit_events ENABLE TRIGGER audit_events_append_only');
  }
}

describe('the audit ledger', () => {
  it('appends records once: a retried append of the same natural key returns the row it already wrote', async () => {
    const [first] = await ledger.append([record('change:c1:approval:bob')]);
    const [again] = await ledger.append([record('change:c1:approval:bob', { principal: 'someone else' })]);
    expect(again.seq).toBe(first.seq);
    expect(again.data).toEqual({ principal: 'bob' });
    expect(await ledger.list({ subject: 'change:c1' })).toHaveLength(1);
  });

  it('appends a batch in order in one transaction: a key already stored or repeated in the batch is written once', async () => {
    const [stored] = await ledger.append([record('change:c2:approval:alice', { principal: 'alice' })]);
    const rows = await ledger.append([
      record('change:c2:approval:bob'),
      record('change:c2:approval:alice', { principal: 'not alice' }),
      record('change:c2:approval:bob', { principal: 'bob again' }),
      record('change:c2:approval:carol'),
    ]);
    expect(rows.map((row) => row.key)).toEqual(['change:c2:approval:bob', 'change:c2:approval:alice', 'change:c2:approval:bob', 'change:c2:approval:carol']);
    expect(rows[1]).toMatchObject({ seq: stored.seq, data: { principal: 'alice' } });
    expect(rows[2]).toMatchObject({ seq: rows[0].seq, data: { principal: 'bob' } });
    expect(rows[3].seq).toBe(rows[0].seq + 1);
    expect(rows[3].prevHash).toBe(rows[0].hash);
    const listed = await ledger.list({ subject: 'change:c2' });
    expect(listed.map((row) => row.key)).toEqual(['change:c2:approval:alice', 'change:c2:approval:bob', 'change:c2:approval:carol']);
    expect(await ledger.verify()).toMatchObject({ ok: true });
  });

  it('forms one gapless chain from many concurrent writers, and verify walks it intact', async () => {
    const writers = Array.from({ length: 8 }, (_, writer) =>
      Promise.all(Array.from({ length: 10 }, (__, n) => ledger.append([record(`change:w${writer}:approval:n${n}`)]))),
    );
    await Promise.all(writers);
    const rows = await ledger.list();
    expect(rows.map((row) => row.seq)).toEqual(rows.map((_, index) => index + 1));
    for (let index = 1; index < rows.length; index += 1) expect(rows[index].prevHash).toBe(rows[index - 1].hash);
    const result = await ledger.verify();
    expect(result).toMatchObject({ ok: true, rowsChecked: rows.length });
  });

  it('verifies intact while other writers keep appending (one snapshot: a fresh append is not a deleted tail)', async () => {
    const appends = Promise.all(Array.from({ length: 40 }, (_, n) => ledger.append([record(`change:busy:approval:n${n}`)])));
    const verdicts = await Promise.all(Array.from({ length: 5 }, () => ledger.verify()));
    await appends;
    expect(verdicts.map((verdict) => verdict.ok)).toEqual([true, true, true, true, true]);
  });

  it('refuses UPDATE and DELETE on its table (append-only)', async () => {
    await expect(pool.query(`UPDATE tollgate.audit_events SET kind = 'x' WHERE seq = 1`)).rejects.toThrow(/append-only/);
    await expect(pool.query('DELETE FROM tollgate.audit_events WHERE seq = 1')).rejects.toThrow(/append-only/);
  });

  it('`tollgate audit verify` exits 0 on an intact ledger', async () => {
    const run = await tollgate(['audit', 'verify', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true });
  });

  it('`tollgate audit export --format jsonl` emits one JSON object per line for every row since a time', async () => {
    const cut = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await ledger.append([record('change:late:approval:carol'), record('change:late:approval:dave')]);
    const all = await tollgate(['audit', 'export', '--format', 'jsonl']);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines.map((line) => JSON.parse(line).seq)).toEqual((await ledger.list()).map((row) => row.seq));

    const since = await tollgate(['audit', 'export', '--format', 'jsonl', '--since', cut.toISOString()]);
    const recent = since.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(recent.map((row) => row.key)).toEqual(['change:late:approval:carol', 'change:late:approval:dave']);
    expect(recent[0]).toMatchObject({ kind: 'change.approved', subject: 'change:late', data: { principal: 'bob' } });

    const csv = await tollgate(['audit', 'export', '--format', 'csv', '--since', cut.toISOString()]);
    expect(csv.stdout.trim().split('\n')).toHaveLength(3); // header + 2 rows
    expect(csv.stdout).toContain('"{""principal"":""bob""}"');
  });

  it('finds a row edited by hand and names it: verify exits 1', async () => {
    const target = (await ledger.list())[4];
    const original = (await pool.query('SELECT content FROM tollgate.audit_events WHERE seq = $1', [target.seq])).rows[0].content as string;
    await asDatabaseOwner((db) => db.query('UPDATE tollgate.audit_events SET content = $1 WHERE seq = $2', [original.replace('"bob"', '"mallory"'), target.seq]));
    try {
      const run = await tollgate(['audit', 'verify', '--json']);
      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, problem: { seq: target.seq, kind: 'hash_mismatch' } });
      expect(run.stderr).toContain(`row ${target.seq}`);
    } finally {
      await asDatabaseOwner((db) => db.query('UPDATE tollgate.audit_events SET content = $1 WHERE seq = $2', [original, target.seq]));
    }
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('finds a row whose indexed columns were changed without touching its content', async () => {
    const target = (await ledger.list())[2];
    await asDatabaseOwner((db) => db.query(`UPDATE tollgate.audit_events SET subject = 'change:other' WHERE seq = $1`, [target.seq]));
    try {
      expect(await ledger.verify()).toMatchObject({ ok: false, problem: { seq: target.seq, kind: 'content_mismatch' } });
    } finally {
      await asDatabaseOwner((db) => db.query('UPDATE tollgate.audit_events SET subject = $1 WHERE seq = $2', [target.subject, target.seq]));
    }
  });

  it('finds a deleted row (a gap) and a deleted last row (the chain head points past the end)', async () => {
    const rows = await ledger.list();
    const middle = rows[6];
    const last = rows[rows.length - 1];
    const copy = async (seq: number) => (await pool.query('SELECT * FROM tollgate.audit_events WHERE seq = $1', [seq])).rows[0];
    const saved = [await copy(middle.seq), await copy(last.seq)];
    await asDatabaseOwner((db) => db.query('DELETE FROM tollgate.audit_events WHERE seq = $1', [middle.seq]));
    expect(await ledger.verify()).toMatchObject({ ok: false, problem: { seq: middle.seq, kind: 'gap' } });
    const run = await tollgate(['audit', 'verify']);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain(`row ${middle.seq}`);

    await asDatabaseOwner((db) => db.query('DELETE FROM tollgate.audit_events WHERE seq = $1', [last.seq]));
    const restore = async (row: Record<string, unknown>) =>
      pool.query(
        'INSERT INTO tollgate.audit_events (seq, recorded_at, event_key, kind, subject, content, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)',
        [row.seq, row.recorded_at, row.event_key, row.kind, row.subject, row.content, row.prev_hash, row.hash],
      );
    await restore(saved[0]);
    expect(await ledger.verify()).toMatchObject({ ok: false, problem: { kind: 'head_mismatch' } });
    await restore(saved[1]);
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('prunes by its own retention, leaving a checkpoint from which what remains still verifies', async () => {
    const before = await ledger.list();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const cut = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await ledger.append([record('change:after-cut:approval:bob')]);
    const pruned = await ledger.prune(cut);
    expect(pruned.pruned).toBe(before.length);
    const remaining = await ledger.list();
    expect(remaining.map((row) => row.key)).toEqual(['change:after-cut:approval:bob']);
    expect(await ledger.verify()).toMatchObject({ ok: true, rowsChecked: 1 });
  });
});
