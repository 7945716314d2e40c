/**
 * `node bin/tollgate.js …` as a user or a CI job runs it: a child process from the repository's root, its output
 * collected. Used by tests and by the documentation's screenshot script.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (commands run with `--json`), or undefined when it is not JSON. */
  json: any;
}

/** Runs the CLI with `env` as its whole environment; `input` goes to its standard input (for `--signature -`). */
export function runTollgateCli(args: string[], env: NodeJS.ProcessEnv, options: { input?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const stdin = options.input === undefined ? 'ignore' : 'pipe';
    const child = spawn(process.execPath, ['bin/tollgate.js', ...args], { cwd: REPO_ROOT, env, stdio: [stdin, 'pipe', 'pipe'] });
    if (options.input !== undefined) child.stdin!.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}
