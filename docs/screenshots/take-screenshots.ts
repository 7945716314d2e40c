/**
 * `npm run screenshots`: the Temporal Web UI as an operator sees it, taken from a running sandbox the way a user
 * would make one (issue 12). It starts `tollgate dev` on free ports with a temporary TOLLGATE_HOME, makes a few
 * changes that end in different states through the `tollgate` CLI (deployed and audited, rolled back by the gate,
 * rejected, withdrawn, awaiting approval), then drives Debian's Chromium (`/usr/bin/chromium`, or
 * TOLLGATE_CHROMIUM) headless through playwright-core and writes:
 *
 *   docs/images/temporal-ui-workflows.png   the workflow list: summaries, Failed vs Completed
 *   docs/images/temporal-ui-change.png      one change's page: summary, details, current details
 *
 * Not part of `npm test` (CI needs no browser). Look at the PNGs before committing them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { freePort } from '../../platform/dev-server';
import { runTollgateCli, type CliRun } from '../../test/harness/cli';

const ROOT = join(__dirname, '..', '..');
const OUT = join(ROOT, 'docs', 'images');
const CHROMIUM = process.env.TOLLGATE_CHROMIUM ?? '/usr/bin/chromium';

type Run = CliRun;

const cli = runTollgateCli;

async function must(args: string[], env: NodeJS.ProcessEnv, codes: number[] = [0]): Promise<Run> {
  const run = await cli(args, env);
  if (!codes.includes(run.code ?? -1)) throw new Error(`tollgate ${args.join(' ')} exited ${run.code}\n${run.stdout}\n${run.stderr}`);
  return run;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'tollgate-screens-'));
  const ports: Record<string, string> = {};
  for (const name of ['TEMPORAL_PORT', 'TEMPORAL_UI_PORT', 'RECEIVER_PORT', 'EMULATOR_PORT', 'WORKER_METRICS_PORT']) ports[name] = String(await freePort());
  const { TEMPORAL_ADDRESS: _address, DATABASE_URL: _database, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = { ...inherited, ...ports, TOLLGATE_HOME: home, LOG_LEVEL: 'warn', TOLLGATE_APPROVAL_TTL: '1h' };
  const emulator = `http://127.0.0.1:${ports.EMULATOR_PORT}`;
  const ui = `http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`;

  process.stdout.write(`Starting the sandbox (TOLLGATE_HOME=${home}) …\n`);
  const dev: ChildProcess = spawn(process.execPath, ['bin/tollgate.js', 'dev'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  dev.stdout!.on('data', (chunk) => (output += chunk));
  dev.stderr!.on('data', (chunk) => (output += chunk));
  try {
    await until('the sandbox', async () => (output.includes('Tollgate is running.') ? true : undefined), 180_000);

    const seed = async (id: string, fields: Record<string, unknown>) => {
      const response = await fetch(`${emulator}/__emulator/objects/ivr/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fields) });
      if (!response.ok) throw new Error(`seeding ivr/${id}: ${response.status}`);
    };
    const file = (name: string, fields: Record<string, unknown>) => {
      const path = join(home, `${name}.json`);
      writeFileSync(path, JSON.stringify(fields));
      return path;
    };
    const submit = (id: string, target: string, fields: Record<string, unknown>, requester: string, reason: string) =>
      must(['change', 'submit', '--target', target, '--file', file(id, fields), '--requester', requester, '--change-id', id, '--reason', reason], env);
    const approve = (id: string, approver: string, codes?: number[]) => must(['change', 'approve', id, '--approver', approver], env, codes);
    const wait = (id: string) => cli(['change', 'wait', id, '--timeout', '2m'], env);

    await seed('support-line', { name: 'Support line', greeting: 'Thanks for calling support', queue: 'support', afterHours: 'voicemail' });
    await seed('billing', { name: 'Billing', greeting: 'Billing, how can we help?', queue: 'billing' });
    await seed('holiday', { name: 'Holiday menu', greeting: 'We are closed today', openHours: 'closed' });

    // Deployed, verified and audited.
    await submit('pr-101-main-menu', 'ivr/main-menu', { greeting: 'Welcome to Acme, now open on Saturdays', openHours: 'Mon-Sat 08:00-18:00' }, 'alice', 'acme/genesys-config#101');
    await approve('pr-101-main-menu', 'bob');
    await approve('pr-101-main-menu', 'carol');
    await wait('pr-101-main-menu');

    // Rolled back by the gate: the platform answers 200 to the write and forgets it (a workflow failure).
    await submit('pr-102-support-line', 'ivr/support-line', { queue: 'support-tier2' }, 'dave', 'acme/genesys-config#102');
    await fetch(`${emulator}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'PUT', pathPrefix: '/api/v2/configuration/ivr/support-line', discardWrite: true, count: 1 }),
    });
    await approve('pr-102-support-line', 'alice');
    await approve('pr-102-support-line', 'bob');
    await wait('pr-102-support-line');

    // Rejected by a reviewer (a decision: completed).
    await submit('pr-103-billing', 'ivr/billing', { queue: 'collections' }, 'carol', 'acme/genesys-config#103');
    await must(['change', 'reject', 'pr-103-billing', '--approver', 'dave', '--reason', 'billing calls must not go to collections'], env);

    // Withdrawn by its requester.
    await submit('pr-104-holiday', 'ivr/holiday', { openHours: 'Mon-Fri 10:00-14:00' }, 'bob', 'acme/genesys-config#104');
    await must(['change', 'reject', 'pr-104-holiday', '--approver', 'bob', '--reason', 'wrong holiday'], env);

    // Awaiting approval, one of two given.
    await submit('pr-105-trunk', 'trunk/sip-primary', { maxCalls: 150 }, 'alice', 'acme/genesys-config#105');
    await approve('pr-105-trunk', 'carol');

    // Let the UI's visibility catch up, then take the pictures.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    mkdirSync(OUT, { recursive: true });
    // A fresh profile each time (launchPersistentContext is how Playwright takes --user-data-dir).
    const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tollgate-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1600, height: 900 },
      deviceScaleFactor: 1,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // The workflow list's columns, as an operator would configure them ("Configure columns"): Tollgate's search
    // attributes beside the status (the UI keeps the choice in localStorage, per namespace).
    const columns = ['Status', 'Workflow ID', 'TollgateState', 'TollgateTarget', 'TollgateRequester', 'Start', 'End'].map((label) => ({ label }));
    // (Runs in the page: its `localStorage`, not Node's.)
    await context.addInitScript(`window.localStorage.setItem('namespace-workflow-table-columns', ${JSON.stringify(JSON.stringify({ default: columns }))});`);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const list = `${ui}/namespaces/default/workflows?query=${encodeURIComponent("TollgateKind = 'change'")}`;
      await page.goto(list, { waitUntil: 'networkidle' });
      await page.getByText('pr-105-trunk').first().waitFor({ timeout: 30_000 });
      await page.waitForTimeout(1000);
      await page.screenshot({ path: join(OUT, 'temporal-ui-workflows.png') });

      // One change's page, on its User Metadata tab: the summary and details it was started with, and its current
      // details (state, reason, approvals, the plan, the deploy and rollback).
      const runId = JSON.parse((await must(['change', 'status', 'pr-102-support-line', '--json', '--no-live'], env)).stdout).runId as string;
      await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent('change:pr-102-support-line')}/${runId}/history`, { waitUntil: 'networkidle' });
      await page.getByText('User Metadata').first().click();
      // The metadata itself is rendered (markdown) in frames of their own; their headings are the page's.
      await page.getByText('Current Details').first().waitFor({ timeout: 30_000 });
      await page.waitForTimeout(1500);
      await page.screenshot({ path: join(OUT, 'temporal-ui-change.png'), fullPage: true });
    } finally {
      await context.close();
    }
    process.stdout.write(`Wrote ${join(OUT, 'temporal-ui-workflows.png')} and ${join(OUT, 'temporal-ui-change.png')}\n`);
  } finally {
    dev.kill('SIGINT');
    await new Promise((resolve) => dev.once('exit', resolve));
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
