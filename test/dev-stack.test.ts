/**
 * `npm start` (= `tollgate dev`) as a newcomer runs it: the whole stack comes up, answers on its ports, writes the
 * sandbox settings, stops cleanly on Ctrl-C, and a second start keeps the workflows of the first — and the
 * emulator's state, so that reconciliation after a restart finds nothing to repair (issue 9).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { describeInstallation } from '../client/installations';
import type { ReconciliationSummary } from '../workflows/reconciliation-messages';
import { freePort } from '../platform/dev-server';
import { parseEnvFile } from '../platform/config';
import { runTollgateCli } from './harness/cli';
import { eventually } from './harness/stack';

const root = join(__dirname, '..');

async function ports() {
  const names = ['TEMPORAL_PORT', 'TEMPORAL_UI_PORT', 'RECEIVER_PORT', 'EMULATOR_PORT', 'WORKER_METRICS_PORT'] as const;
  const env: Record<string, string> = {};
  for (const name of names) env[name] = String(await freePort());
  return env;
}

function startDev(env: NodeJS.ProcessEnv, args: string[] = []): { child: ChildProcess; output: () => string; stdout: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['bin/tollgate.js', 'dev', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
    stdout += chunk;
  });
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, stdout: () => stdout, exited };
}

const cli = runTollgateCli;

async function answers(url: string, status = 200): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === status;
  } catch {
    return false;
  }
}

describe('npm start: the whole stack on one machine', () => {
  const home = mkdtempSync(join(tmpdir(), 'tollgate-dev-'));
  let env: NodeJS.ProcessEnv;
  let running: ReturnType<typeof startDev> | undefined;

  beforeAll(async () => {
    const { TEMPORAL_ADDRESS: _ignored, DATABASE_URL: _db, ...inherited } = process.env;
    env = { ...inherited, ...(await ports()), TOLLGATE_HOME: home, LOG_LEVEL: 'warn' };
  });

  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
  });

  it('comes up within 60 s with receivers ready, the Temporal Web UI and the emulator answering, and keeps workflows across a restart', async () => {
    running = startDev(env);
    const readyz = `http://127.0.0.1:${env.RECEIVER_PORT}/readyz`;
    await eventually(() => `/readyz 200\n${running!.output()}`, () => answers(readyz), 60_000, 250);
    await eventually(() => `the URLs\n${running!.output()}`, async () => running!.output().includes('Tollgate is running.'), 20_000);
    expect(await answers(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}/`)).toBe(true);
    expect(await answers(`http://127.0.0.1:${env.EMULATOR_PORT}/__emulator/state`)).toBe(true);
    expect(await answers(`http://127.0.0.1:${env.RECEIVER_PORT}/healthz`)).toBe(true);
    expect(await answers(`http://127.0.0.1:${env.RECEIVER_PORT}/metrics`)).toBe(true);

    // It prints every URL.
    for (const port of [env.TEMPORAL_PORT, env.TEMPORAL_UI_PORT, env.RECEIVER_PORT, env.EMULATOR_PORT]) {
      expect(running.output()).toContain(`:${port}`);
    }

    // The sandbox settings the CLI reads.
    const sandbox = parseEnvFile(readFileSync(join(home, 'sandbox.env'), 'utf8'));
    expect(sandbox.TOLLGATE_GITHUB_TOKEN).toMatch(/^[0-9a-f]{48}$/);
    expect(sandbox.TOLLGATE_APPROVAL_KEY).toBeUndefined(); // no shared approval key, anywhere
    // Each sandbox person has their own OpenSSH private key (mode 600), listed in the allowed signers.
    const allowedSigners = readFileSync(join(home, 'allowed_signers'), 'utf8');
    for (const name of ['alice', 'bob', 'carol', 'dave']) {
      const key = join(home, 'keys', name);
      expect(readFileSync(key, 'utf8')).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(allowedSigners).toMatch(new RegExp(`^${name} namespaces="tollgate" ssh-ed25519 AAAA`, 'm'));
    }
    const aliceKey = readFileSync(join(home, 'keys', 'alice'), 'utf8');
    expect(sandbox.TOLLGATE_SANDBOX_INTEGRATION_ID).toBeTruthy();
    expect(sandbox.TEMPORAL_ADDRESS).toBe(`127.0.0.1:${env.TEMPORAL_PORT}`);

    // Real-platform demo objects are there out of the box, and the CLI plans a change to one.
    const schedule = /architect\.schedule\/([0-9a-f-]{36})/.exec(running.output())?.[1];
    expect(schedule).toBeDefined();
    const changeFile = join(home, 'change.json');
    writeFileSync(changeFile, JSON.stringify({ end: '2026-01-05T19:00:00.000' }));
    const changeId = `dev-ticket-${Date.now()}`;
    const submitted = await cli(
      ['change', 'submit', '--target', `architect.schedule/${schedule}`, '--file', changeFile, '--requester', 'alice', '--change-id', changeId],
      { ...env, TOLLGATE_HOME: home },
    );
    expect(submitted.code).toBe(0);
    expect(submitted.stdout).toMatch(/awaiting_approval/);
    expect(submitted.stdout).toMatch(/lock: optimistic lock: the write carries the current version/);

    // Its change ticket is opened in the emulator's Jira, with the plan as its description (sandbox wiring).
    expect(running.output()).toContain(`Change tickets      Jira http://127.0.0.1:${env.EMULATOR_PORT}/jira, project CHG`);
    type Issues = { issues: Array<{ key: string; labels: string[]; status: string; descriptionText: string }> };
    const jiraIssues = async () => ((await (await fetch(`http://127.0.0.1:${env.EMULATOR_PORT}/__emulator/jira/issues`)).json()) as Issues).issues;
    const ticket = await eventually(
      'the change ticket in the emulator\'s Jira',
      async () => (await jiraIssues()).find((issue) => issue.labels.includes(`tollgate-change-${changeId}`)),
      30_000,
    );
    expect(ticket.status).toBe('Open');
    expect(ticket.descriptionText).toContain(`~ end: "2026-01-05T18:00:00.000" → "2026-01-05T19:00:00.000"`);
    const status = await cli(['change', 'status', changeId, '--json'], { ...env, TOLLGATE_HOME: home });
    expect(JSON.parse(status.stdout).tickets).toEqual([expect.objectContaining({ system: 'jira', key: ticket.key })]);

    // A workflow recorded before the restart …
    const workflowId = `dev-stack-probe-${Date.now()}`;
    const connection = await Connection.connect({ address: sandbox.TEMPORAL_ADDRESS });
    await new Client({ connection }).workflow.start('probeWorkflow', { taskQueue: 'nobody-polls-this', workflowId });
    await connection.close();

    // Ctrl-C stops everything cleanly.
    running.child.kill('SIGINT');
    expect(await running.exited).toBe(0);
    expect(await answers(readyz)).toBe(false);

    // … is still there after the second start (with --json: its start-up report is the one line on stdout).
    running = startDev(env, ['--json']);
    await eventually(() => `/readyz 200 after restart\n${running!.output()}`, () => answers(readyz), 60_000, 250);
    await eventually(() => `the URLs after restart\n${running!.output()}`, async () => running!.output().includes('Tollgate is running.'), 20_000);
    const report = await eventually(() => `the start-up report\n${running!.output()}`, async () => (running!.stdout().endsWith('\n') ? JSON.parse(running!.stdout()) : undefined), 20_000);
    expect(running.stdout().trim().split('\n')).toHaveLength(1);
    expect(report).toMatchObject({
      ok: true,
      process: 'dev',
      temporal: { address: sandbox.TEMPORAL_ADDRESS, namespace: 'default', devServer: { uiUrl: `http://127.0.0.1:${env.TEMPORAL_UI_PORT}` } },
      receivers: { url: `http://127.0.0.1:${env.RECEIVER_PORT}`, routes: expect.arrayContaining(['/v1/genesys/lifecycle', '/readyz']) },
      emulator: { url: `http://127.0.0.1:${env.EMULATOR_PORT}` },
      sandbox: true,
    });
    const again = await Connection.connect({ address: sandbox.TEMPORAL_ADDRESS });
    const description = await new Client({ connection: again }).workflow.getHandle(workflowId).describe();
    expect(description.workflowId).toBe(workflowId);
    await again.close();
    // The sandbox secrets survive the restart too, so CI sessions keep working.
    expect(parseEnvFile(readFileSync(join(home, 'sandbox.env'), 'utf8')).TOLLGATE_GITHUB_TOKEN).toBe(sandbox.TOLLGATE_GITHUB_TOKEN);
    // … and so do the sandbox people's keys and the allowed signers.
    expect(readFileSync(join(home, 'keys', 'alice'), 'utf8')).toBe(aliceKey);
    expect(readFileSync(join(home, 'allowed_signers'), 'utf8')).toBe(allowedSigners);
    // … and the change tickets, which the delivery cursor in PostgreSQL has already gone past.
    expect((await jiraIssues()).filter((issue) => issue.labels.includes(`tollgate-change-${changeId}`)).map((issue) => issue.key)).toEqual([ticket.key]);
    // … and the real-platform demo objects: the same ones, with the same ids (not created again).
    expect(/architect\.schedule\/([0-9a-f-]{36})/.exec(running.output().split('Tollgate is running.').pop() ?? '')?.[1]).toBe(schedule);

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });

  it('a sandbox restart keeps the emulator consistent with Temporal and PostgreSQL: reconciliation finds nothing to repair', async () => {
    const readyz = `http://127.0.0.1:${env.RECEIVER_PORT}/readyz`;
    const start = async () => {
      running = startDev(env);
      await eventually(() => `/readyz 200\n${running!.output()}`, () => answers(readyz), 60_000, 250);
      await eventually(() => `the URLs\n${running!.output()}`, async () => running!.output().includes('Tollgate is running.'), 20_000);
    };
    await start();
    const sandbox = parseEnvFile(readFileSync(join(home, 'sandbox.env'), 'utf8'));
    const integrationId = sandbox.TOLLGATE_SANDBOX_INTEGRATION_ID as string;
    expect(integrationId).toBeTruthy();
    const orgId = `org-restart-${Date.now()}`;
    const emitted = await fetch(`http://127.0.0.1:${env.EMULATOR_PORT}/__emulator/integrations/${integrationId}/orgs/${orgId}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'installed', tenantId: `tenant_${orgId}`, configuration: { crmEndpoint: 'https://acme.salesforce.com' } }),
    });
    expect(emitted.status).toBe(202);
    const connection = await Connection.connect({ address: sandbox.TEMPORAL_ADDRESS });
    try {
      const client = new Client({ connection });
      await eventually('the sandbox install to be active', async () => (await describeInstallation(client, orgId, integrationId))?.state === 'active');

      running!.child.kill('SIGINT');
      expect(await running!.exited).toBe(0);
      await start();

      const reconciled = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, ['bin/tollgate.js', 'installation', 'reconcile', '--json'], { cwd: root, env, timeout: 120_000 }, (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect([reconciled.code, reconciled.stderr]).toEqual([0, '']);
      const summary = JSON.parse(reconciled.stdout) as ReconciliationSummary;
      expect(summary.integrations.find((result) => result.integrationId === integrationId)).toMatchObject({ installedInGenesys: 1, activeInstallations: 1 });
      expect(summary.repaired).toEqual([]);
      expect(summary.held).toEqual([]);
      const view = await describeInstallation(client, orgId, integrationId);
      expect(view).toMatchObject({ state: 'active', resources: { tenant: true, schema: true, crm: true } });
      const state = (await (await fetch(`http://127.0.0.1:${env.EMULATOR_PORT}/__emulator/state`)).json()) as { tenants: Array<{ tenantId: string }> };
      expect(state.tenants.map((tenant) => tenant.tenantId)).toContain(`tenant_${orgId}`);
    } finally {
      await connection.close();
    }
    running!.child.kill('SIGTERM');
    expect(await running!.exited).toBe(0);
  });
});
