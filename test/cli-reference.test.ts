/**
 * README and the CLI say the same thing (issue 12): the README's CLI table has one row per command, listing exactly
 * the options commander knows for it (`buildProgram`'s `program.commands`), and every default the CLI applies is the
 * one the row states. And every command, run with `--json` where it fails, writes exactly one JSON document on
 * stdout with `ok: false` and the exit code the README documents (4 Temporal unreachable, 2 bad input or
 * configuration) — the process commands included.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { generateEd25519Key } from '../approvals/ssh-keys';
import { buildProgram } from '../cli/tollgate';
import { freePort } from '../platform/dev-server';

const ROOT = join(__dirname, '..');

interface Leaf {
  name: string;
  options: string[];
  defaults: Record<string, string>;
}

function leaves(command: Command, prefix: string[] = []): Leaf[] {
  return command.commands.flatMap((sub) => {
    const name = [...prefix, sub.name()];
    if (sub.commands.length > 0) return leaves(sub, name);
    const options = sub.options.map((option) => option.long!).filter((long) => long !== '--help');
    const defaults = Object.fromEntries(
      sub.options.filter((option) => typeof option.defaultValue === 'string').map((option) => [option.long!, option.defaultValue as string]),
    );
    return [{ name: name.join(' '), options, defaults }];
  });
}

const commands = leaves(buildProgram());
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const cliSection = readme.slice(readme.indexOf('## The CLI'), readme.indexOf('Exit codes:', readme.indexOf('## The CLI')));
const rows = cliSection.split('\n').filter((line) => line.startsWith('| `tollgate '));

function rowOf(name: string): string | undefined {
  return rows.find((row) => row.startsWith(`| \`tollgate ${name} `) || row.startsWith(`| \`tollgate ${name}\``));
}

describe("the README's CLI table", () => {
  it('has one row per command, and no row for a command that does not exist', () => {
    expect(commands.length).toBeGreaterThan(15);
    expect(rows.length).toBe(commands.length);
    for (const { name } of commands) expect([name, rowOf(name) !== undefined]).toEqual([name, true]);
  });

  it.each(commands.map((command) => [command.name, command] as const))('lists exactly the options of `tollgate %s`', (_name, command) => {
    const usage = rowOf(command.name)!.split(' | ')[0];
    const listed = [...new Set([...usage.matchAll(/--[a-z][a-z-]*/g)].map((match) => match[0]))].sort();
    expect(listed).toEqual([...command.options].sort());
  });

  it.each(commands.filter((command) => Object.keys(command.defaults).length > 0).map((command) => [command.name, command] as const))(
    'states every default of `tollgate %s` as the CLI applies it',
    (_name, command) => {
      const row = rowOf(command.name)!;
      for (const [option, value] of Object.entries(command.defaults)) expect([option, row]).toEqual([option, expect.stringContaining(`\`${option}\` default \`${value}\``)]);
    },
  );
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function tollgate(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'tollgate.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('every command with --json, when it fails', () => {
  it('writes one JSON document with ok: false and the documented exit code', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tollgate-cli-reference-'));
    const key = join(home, 'key');
    writeFileSync(key, generateEd25519Key('someone').privateKeyText, { mode: 0o600 });
    const file = join(home, 'change.json');
    writeFileSync(file, JSON.stringify({ greeting: 'hello' }));
    const env = { TOLLGATE_HOME: home, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` };
    const unreachable = { exitCode: 4, code: 'temporal_unreachable' };
    const badInput = { exitCode: 2, code: 'invalid_input' };
    const badSetting = { exitCode: 2, code: 'invalid_configuration' };
    // One failing invocation per command (the table below must name them all).
    const cases: Record<string, { args: string[]; env?: Record<string, string>; expected: { exitCode: number; code: string } }> = {
      dev: { args: ['dev'], env: { TOLLGATE_REQUIRED_APPROVALS: 'two' }, expected: badSetting },
      worker: { args: ['worker'], env: { TOLLGATE_REQUIRED_APPROVALS: 'two' }, expected: badSetting },
      receivers: { args: ['receivers'], env: { RECEIVER_PORT: 'not-a-port' }, expected: badSetting },
      emulator: { args: ['emulator'], env: { EMULATOR_PORT: 'not-a-port' }, expected: badSetting },
      'change submit': { args: ['change', 'submit', '--target', 'ivr/main-menu', '--file', file, '--requester', 'alice', '--key', key], expected: unreachable },
      'change statement': { args: ['change', 'statement', 'chg-1', '--as', 'bob'], expected: unreachable },
      'change approve': { args: ['change', 'approve', 'chg-1', '--approver', 'bob', '--key', key], expected: unreachable },
      'change reject': { args: ['change', 'reject', 'chg-1', '--approver', 'bob', '--reason', 'no', '--key', key], expected: unreachable },
      'change status': { args: ['change', 'status', 'chg-1'], expected: unreachable },
      'change list': { args: ['change', 'list'], expected: unreachable },
      'change wait': { args: ['change', 'wait', 'chg-1'], expected: unreachable },
      'change rollback': { args: ['change', 'rollback', 'chg-1', '--requester', 'dave', '--key', key], expected: unreachable },
      'audit list': { args: ['audit', 'list'], expected: unreachable },
      'audit verify': { args: ['audit', 'verify'], expected: badInput }, // no DATABASE_URL
      'audit export': { args: ['audit', 'export', '--format', 'xml'], expected: badInput },
      'installation status': { args: ['installation', 'status', 'org-1/integration-1'], expected: unreachable },
      'installation list': { args: ['installation', 'list'], expected: unreachable },
      'installation reconcile': { args: ['installation', 'reconcile'], expected: unreachable },
    };
    expect(Object.keys(cases).sort()).toEqual(commands.map((command) => command.name).sort());

    const results: Array<{ name: string; code: number | null; document: unknown; lines: number }> = [];
    const names = Object.keys(cases);
    for (let start = 0; start < names.length; start += 6) {
      results.push(
        ...(await Promise.all(
          names.slice(start, start + 6).map(async (name) => {
            const run = await tollgate([...cases[name].args, '--json'], { ...env, ...cases[name].env });
            let document: unknown;
            try {
              document = JSON.parse(run.stdout);
            } catch {
              document = `not JSON: ${run.stdout}${run.stderr}`;
            }
            return { name, code: run.code, document, lines: run.stdout.trim().split('\n').length };
          }),
        )),
      );
    }
    for (const result of results) {
      const { expected } = cases[result.name];
      expect(result).toEqual({
        name: result.name,
        code: expected.exitCode,
        document: expect.objectContaining({ ok: false, code: expected.code, exitCode: expected.exitCode, message: expect.any(String) }),
        lines: 1,
      });
    }
  });
});
