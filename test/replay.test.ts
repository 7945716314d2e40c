/**
 * Upgrades never wedge a running workflow (issue 10): the recorded histories of every long-lived workflow in the
 * states that matter (test/replay/histories/, recorded by `npm run record-histories`) replay against today's
 * workflow code without a determinism error. And the check bites: a build of the workflows with a deliberately
 * incompatible change (a timer inserted before each workflow's logic; test/replay/incompatible-workflows.ts, never
 * part of the shipped code) fails on them, while the same change behind `patched()` — the policy in
 * docs/decisions.md — replays cleanly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../worker';

const HISTORIES_DIR = join(__dirname, 'replay', 'histories');

function histories() {
  return readdirSync(HISTORIES_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({ workflowId: name.replace(/\.json$/, ''), history: historyFromJSON(JSON.parse(readFileSync(join(HISTORIES_DIR, name), 'utf8'))) }));
}

const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

async function replayAll(workflowsPath: string): Promise<Record<string, string | undefined>> {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: quiet });
  const results: Record<string, string | undefined> = {};
  for await (const result of Worker.runReplayHistories({ workflowBundle }, histories())) {
    results[result.workflowId] = result.error ? `${result.error.name}: ${result.error.message}` : undefined;
  }
  return results;
}

describe('replaying recorded histories (upgrades never wedge a running workflow)', () => {
  it('has a fixture for each long-lived workflow in the states that matter', () => {
    const names = histories().map((entry) => entry.workflowId);
    for (const expected of [
      'installation-before-continue-as-new',
      'installation-after-reinstall',
      'target-with-queue',
      'change-awaiting-approval',
      'change-mid-deploy',
      'change-audited',
      'audit-approved',
      'audit-drift-reverted',
      'event-delivery-jira',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it('replays every recorded history against the current workflow code', async () => {
    const results = await replayAll(WORKFLOWS_PATH);
    expect(Object.keys(results).length).toBe(histories().length);
    expect(Object.entries(results).filter(([, error]) => error !== undefined)).toEqual([]);
  });

  it('fails on a deliberately incompatible build of the workflows (the check bites)', async () => {
    const results = await replayAll(join(__dirname, 'replay', 'incompatible-workflows.ts'));
    for (const [name, error] of Object.entries(results)) {
      expect({ name, error }).toEqual({ name, error: expect.stringMatching(/Determinism|nondetermin/i) });
    }
  });

  it('replays cleanly when the same change is guarded by patched(), as the versioning policy requires', async () => {
    const results = await replayAll(join(__dirname, 'replay', 'patched-workflows.ts'));
    expect(Object.entries(results).filter(([, error]) => error !== undefined)).toEqual([]);
  });
});
