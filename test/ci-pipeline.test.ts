/**
 * The example CI pipeline (docs/examples/github-actions.yml) works as written: `actionlint` (pinned; `.ci/run`
 * installs it, and this test installs it with Go when it is missing) passes on it, the docs include it verbatim,
 * every `tollgate` option it uses exists, and it holds no key that can approve anything.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const PIPELINE = join(ROOT, 'docs/examples/github-actions.yml');
export const ACTIONLINT_MODULE = 'github.com/rhysd/actionlint/cmd/actionlint@v1.7.12';

function actionlint(): string {
  const local = join(ROOT, '.tollgate/bin/actionlint');
  if (existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    if (existsSync(join(dir, 'actionlint'))) return join(dir, 'actionlint');
  }
  // Installed like everything else the project needs: pinned, into the ignored .tollgate/ folder.
  execFileSync('go', ['install', ACTIONLINT_MODULE], { env: { ...process.env, GOBIN: join(ROOT, '.tollgate/bin') }, stdio: 'pipe', timeout: 600_000 });
  return local;
}

function lint(path: string): { status: number | null; output: string } {
  const result = spawnSync(actionlint(), ['-no-color', path], { encoding: 'utf8', cwd: ROOT });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const pipeline = readFileSync(PIPELINE, 'utf8');

it('passes actionlint (v1.7.12), which fails a broken copy of it', () => {
  const version = execFileSync(actionlint(), ['-version'], { encoding: 'utf8' });
  expect(version).toMatch(/^v1\.7\.12/);
  const result = lint(PIPELINE);
  expect([result.status, result.output]).toEqual([0, '']);
  const broken = join(mkdtempSync(join(tmpdir(), 'tollgate-actionlint-')), 'broken.yml');
  writeFileSync(broken, pipeline.replace('github.event.pull_request.base.sha', 'github.evnt.pull_request.base.sha'));
  expect(lint(broken).status).not.toBe(0);
});

it('is included verbatim in docs/change-gate.md', () => {
  expect(readFileSync(join(ROOT, 'docs/change-gate.md'), 'utf8')).toContain(`\`\`\`yaml\n${pipeline}\`\`\``);
});

it('holds no key that can approve, installs no package that does not exist, and takes the base from the event', () => {
  const steps = pipeline
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n');
  expect(steps).not.toMatch(/APPROVAL_KEY|change approve|--key|--signature|npm install --global tollgate|github\.base_ref/);
  expect(pipeline).toMatch(/^\s+pull_request_target:/m);
  expect(pipeline).toContain('BASE_SHA: ${{ github.event.pull_request.base.sha }}');
  expect(pipeline).toContain('repository: ${{ vars.TOLLGATE_REPOSITORY }}');
});

it('uses only options the tollgate CLI has', () => {
  const help = (command: string) => execFileSync(process.execPath, [join(ROOT, 'bin/tollgate.js'), 'change', command, '--help'], { encoding: 'utf8', cwd: ROOT });
  for (const command of ['submit', 'wait']) {
    // The command and its continuation lines (ending in a backslash).
    const lines = pipeline.split('\n');
    let at = lines.findIndex((line) => line.includes(`tollgate.js change ${command} `));
    expect(at).toBeGreaterThanOrEqual(0);
    let invocation = lines[at];
    while (lines[at].trimEnd().endsWith('\\')) invocation += lines[++at];
    const options = [...invocation.matchAll(/(--[a-z-]+)/g)].map((match) => match[1]);
    expect(options.length).toBeGreaterThan(0);
    const text = help(command);
    for (const option of options) expect([command, option, text.includes(`${option} `)]).toEqual([command, option, true]);
  }
});
