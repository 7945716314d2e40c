/**
 * A change not approved in time expires (default TTL: 7 days). Proven on Temporal's time-skipping test server
 * (seven days pass in a moment), with the real workflows, the real activities and the emulator over HTTP.
 */
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createAlertSender } from '../activities/alerts';
import { createChangeGateActivities } from '../activities/change-gate';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AllowedSignersFile } from '../approvals/allowed-signers';
import { signStatement } from '../approvals/signed-statement';
import { parsePrivateKey } from '../approvals/ssh-keys';
import { renderStatement } from '../approvals/statement';
import { submissionStatement } from '../approvals/submission';
import { statementFor } from '../client/change-gate';
import { emulatorSettingsFor, ensureSandboxKeys, generateSandboxSecrets, sandboxEnv, sandboxKeyFile } from '../cli/sandbox';
import { startEmulator, type RunningEmulator } from '../emulator/server';
import { GenesysClient } from '../genesys/client';
import { loadConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { SEARCH_ATTRIBUTES } from '../platform/search-attributes';
import { ensureTestServer } from '../platform/temporal-binary';
import { changeWorkflow } from '../workflows/change';
import { approveUpdate, statusQuery } from '../workflows/change-messages';
import { genesysTaskQueue } from '../workflows/task-queues';
import { changeWorkflowId } from '../workflows/workflow-ids';
import { eventually, uniqueId, workflowBundle } from './harness/stack';

let env: TestWorkflowEnvironment;
let emulator: RunningEmulator;
let workers: Worker[];
let running: Promise<unknown>;
const secrets = generateSandboxSecrets();
const taskQueue = uniqueId('expiry');
// Real keys, made as `npm start` makes them: the submission and the approval below are signed and verified.
const home = mkdtempSync(join(tmpdir(), 'tollgate-expiry-'));
const keys = ensureSandboxKeys(home);
const sign = (name: string, text: string) => signStatement(text, parsePrivateKey(readFileSync(sandboxKeyFile(home, name), 'utf8')));

beforeAll(async () => {
  const path = process.env.TOLLGATE_TEMPORAL_TEST_SERVER_BIN ?? (await ensureTestServer({ env: process.env }));
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  // The test server knows no custom search attributes until told (the dev server gets them as start flags).
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
  });
  emulator = await startEmulator({ port: 0, settings: emulatorSettingsFor(secrets) });
  const config = loadConfig({ ...sandboxEnv(secrets, 'unused'), EMULATOR_PORT: String(emulator.port), TEMPORAL_TASK_QUEUE: taskQueue, LOG_LEVEL: 'warn' });
  const logger = createLogger({ level: 'warn', name: 'tollgate-expiry-test' });
  const activities = createChangeGateActivities({
    config,
    logger,
    temporal: env.client,
    genesys: new GenesysClient(config.genesys, { logger }),
    alerts: createAlertSender({ logger }),
    databaseUrl: '',
    allowedSigners: new AllowedSignersFile(keys.allowedSignersPath),
  });
  const bundle = await workflowBundle();
  workers = await Promise.all([
    Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities }),
    Worker.create({ connection: env.nativeConnection, taskQueue: genesysTaskQueue(taskQueue), activities }),
  ]);
  running = Promise.all(workers.map((worker) => worker.run()));
});

afterAll(async () => {
  workers?.forEach((worker) => worker.shutdown());
  await running;
  await emulator?.close();
  await env?.teardown();
});

async function seed(): Promise<{ type: string; id: string }> {
  const target = { type: 'ivr', id: uniqueId('obj') };
  await fetch(`${emulator.url}/__emulator/objects/ivr/${target.id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ greeting: 'hello', version: 1 }),
  });
  return target;
}

it('expires a change that is not approved within 7 days, even with one approval', async () => {
  const target = await seed();
  const changeId = uniqueId('chg');
  const input = { changeId, target, desired: { greeting: 'welcome' }, requester: 'alice' };
  const submission = { signature: sign('alice', renderStatement(submissionStatement(input, 'default'))) };
  const handle = await env.client.workflow.start(changeWorkflow, {
    workflowId: changeWorkflowId(changeId),
    taskQueue,
    args: [{ ...input, submission }],
  });
  // Wait (on the real clock, the server is not skipping while we poll) for the plan, then approve once.
  const status = await eventually('the plan', async () => {
    const current = await handle.query(statusQuery);
    return current.state === 'planning' ? undefined : current;
  });
  expect(status.state).toBe('awaiting_approval');
  const statement = statementFor(status, 'approve', 'bob')!;
  await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', statement, signature: sign('bob', statement) }] });

  const before = await env.currentTimeMs();
  const result = await handle.result(); // time skips to the TTL
  const elapsed = (await env.currentTimeMs()) - before;
  expect(result.state).toBe('expired');
  expect(result.approvals.map((approval) => approval.approver)).toEqual(['bob']);
  expect(elapsed).toBeGreaterThanOrEqual(7 * 86_400_000 - 60_000);
  // Nothing was written.
  const object = (await (await fetch(`${emulator.url}/__emulator/state`)).json()) as { objects: { id: string; version: number }[] };
  expect(object.objects.find((o) => o.id === target.id)?.version).toBe(1);
});
