/**
 * What `tollgate worker` logs (issue 12): an info line at every milestone of a change, each with its change ID
 * (submitted, planned, each approval, approved, deploying, written, verified, audited — and a failure state), from
 * the change workflow's replay-safe `log` through pino; and the workflow bundle's webpack output at debug, one line
 * per record, never a page-long info message. A real `tollgate worker` process against the test stack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { approveBy, planned, reject, seedObject, submit, waitForState } from './change-gate-support';
import { useTestStack } from './fixtures';
import { eventually } from './harness/stack';
import { deleteWorkerSchedules } from './lifecycle-support';

const stack = useTestStack({ worker: false, env: { TOLLGATE_HEARTBEAT_EVERY: '1h' } });

interface LogLine {
  level: number;
  msg: string;
  changeId?: string;
  component?: string;
  [key: string]: unknown;
}

let worker: ChildProcess | undefined;
const lines: LogLine[] = [];

beforeAll(async () => {
  const child = spawn(process.execPath, [join(__dirname, '..', 'bin', 'tollgate.js'), 'worker'], {
    env: { ...process.env, ...stack.env, LOG_LEVEL: 'debug', WORKER_METRICS_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker = child;
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const line of complete) {
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr!.resume();
  await eventually('the worker to run', async () => lines.some((line) => line.msg === 'worker running'), 120_000);
});

afterAll(async () => {
  worker?.kill('SIGTERM');
  await new Promise((resolve) => (worker?.exitCode !== null ? resolve(undefined) : worker.once('exit', resolve)));
  await deleteWorkerSchedules(stack);
});

const infoOf = (changeId: string) => lines.filter((line) => line.level === 30 && line.changeId === changeId).map((line) => line.msg);

it('logs every milestone of a change at info, each with its change ID', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const handle = await submit(stack, { target, desired: { greeting: 'welcome' }, requester: 'alice' });
  const { changeId } = await planned(handle);
  await approveBy(stack, handle, ['bob', 'carol']);
  await waitForState(handle, ['audited']);
  const milestones = await eventually('the audited line', async () => {
    const messages = infoOf(changeId);
    return messages.some((message) => message.startsWith(`change ${changeId} audited`)) ? messages : undefined;
  });
  expect(milestones).toEqual([
    `change ${changeId} submitted by alice`,
    `change ${changeId} awaiting_approval`,
    `change ${changeId} approved by bob (1/2, signature)`,
    `change ${changeId} approved by carol (2/2, signature)`,
    `change ${changeId} approved`,
    `change ${changeId} deploying`,
    `change ${changeId} written: version 1 → 2 (deploy)`,
    `change ${changeId} deployed: verified at version 2`,
    expect.stringMatching(new RegExp(`^change ${changeId} audited: verified at version 2; audited by audit:ivr:`)),
  ]);
  expect(lines.find((line) => line.msg === `change ${changeId} deploying`)).toMatchObject({ target: `ivr/${target.id}`, state: 'deploying', workflowId: `change:${changeId}` });
});

it('logs a failure state at info with its reason', async () => {
  const target = await seedObject(stack, 'ivr', { greeting: 'hello' });
  const handle = await submit(stack, { target, desired: { greeting: 'welcome' }, requester: 'alice' });
  const { changeId } = await planned(handle);
  await reject(stack, handle, 'dave', 'not this week');
  const line = await eventually('the rejected line', async () => infoOf(changeId).find((message) => message.includes('rejected')));
  expect(line).toBe(`change ${changeId} rejected: by dave: not this week`);
});

it("logs the workflow bundle's build output at debug, one line per record, and no webpack output at info", () => {
  const bundle = lines.filter((line) => line.component === 'workflow-bundle');
  expect(bundle.length).toBeGreaterThan(3);
  expect(bundle.every((line) => line.level === 20 && !line.msg.includes('\n'))).toBe(true);
  expect(bundle.some((line) => /webpack .* compiled/.test(line.msg))).toBe(true);
  expect(lines.filter((line) => line.level >= 30 && /webpack|modules by path/.test(line.msg))).toEqual([]);
});
