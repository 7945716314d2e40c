/**
 * A database of its own for a test that must own the whole ledger (tampering with rows, counting every row): created
 * on the run's PostgreSQL server (test/global-setup.ts), migrated the way `tollgate worker` migrates (in a process
 * of its own: node-pg-migrate is an ES module), and dropped afterwards.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const ROOT = join(__dirname, '..', '..');

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Migrates `url` in a child process; resolves with the migrations applied. */
export async function migrateInChildProcess(url: string): Promise<string[]> {
  const script = `require('tsx/cjs'); require('./platform/migrations.ts').migrateDatabase(process.env.URL).then((names) => process.stdout.write(JSON.stringify(names)))`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: ROOT, env: { ...process.env, URL: url } });
  return JSON.parse(stdout) as string[];
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TOLLGATE_TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TOLLGATE_TEST_DATABASE_URL is not set: run the tests through jest');
  const name = `test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await migrateInChildProcess(url.toString());
  return {
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
