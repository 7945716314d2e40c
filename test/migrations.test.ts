/**
 * Tollgate's PostgreSQL schema comes from node-pg-migrate (platform/migrations.ts, migrations/*.sql): the test run's
 * global set-up migrated the test database; migrating again applies nothing, even from three processes at once
 * (node-pg-migrate's advisory lock), as when several workers start together.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { migrateInChildProcess } from './harness/database';

const ROOT = join(__dirname, '..');
const url = () => process.env.TOLLGATE_TEST_DATABASE_URL as string;

/** Migrates in a process of its own, as `tollgate worker` does at start (node-pg-migrate is an ES module, which
 * jest's in-process module system does not load). */
const migrateInProcess = () => migrateInChildProcess(url());

describe('database migrations', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool({ connectionString: url(), max: 2 });
  });
  afterAll(() => pool.end());

  it('has applied every migration in migrations/ to the tollgate schema', async () => {
    const applied = await pool.query<{ name: string }>('SELECT name FROM tollgate.pgmigrations ORDER BY run_on, id');
    const files = readdirSync(join(ROOT, 'migrations')).map((name) => name.replace(/\.sql$/, '')).sort();
    expect(applied.rows.map((row) => row.name)).toEqual(files);
  });

  it('applies nothing when the database is up to date, even with three processes migrating at once', async () => {
    const runs = await Promise.all([migrateInProcess(), migrateInProcess(), migrateInProcess()]);
    expect(runs).toEqual([[], [], []]);
  });
});
