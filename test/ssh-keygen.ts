/**
 * The real `ssh-keygen` (OpenSSH, from the distribution's packages; `.ci/run` installs `openssh-client` when it is
 * missing), for tests that hold Tollgate's SSH signatures to the reference implementation: keys it generates,
 * signatures it makes (`-Y sign -n tollgate`), and verdicts it gives on ours (`-Y verify`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function sshKeygenPath(): string {
  for (const dir of [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/bin']) {
    const candidate = join(dir, 'ssh-keygen');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('ssh-keygen is not installed: `apt-get install openssh-client` (.ci/run does this)');
}

/** Generates a key without a passphrase at `path` (and `path.pub`); returns the public key line. */
export function generateKeyWithSshKeygen(path: string, type: 'ed25519' | 'ecdsa-256' | 'ecdsa-384' | 'ecdsa-521' | 'rsa', comment = 'test'): string {
  const [kind, bits] = type.split('-');
  const args = ['-q', '-t', kind, '-N', '', '-C', comment, '-f', path];
  if (bits) args.push('-b', bits);
  if (kind === 'rsa') args.push('-b', '3072');
  execFileSync(sshKeygenPath(), args, { stdio: 'pipe' });
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

/** `ssh-keygen -Y sign -n <namespace> -f key` over `message`; returns the armored signature. */
export function signWithSshKeygen(keyPath: string, message: string, namespace = 'tollgate'): string {
  const result = spawnSync(sshKeygenPath(), ['-Y', 'sign', '-n', namespace, '-f', keyPath], { input: message, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ssh-keygen -Y sign failed: ${result.stderr}`);
  return result.stdout;
}

/** `ssh-keygen -Y verify`: true when OpenSSH accepts `signature` by `principal` over `message`. */
export function verifiesWithSshKeygen(allowedSignersPath: string, principal: string, message: string, signature: string, dir: string, namespace = 'tollgate'): boolean {
  const signaturePath = join(dir, `verify-${Date.now()}-${Math.random().toString(16).slice(2)}.sig`);
  writeFileSync(signaturePath, signature);
  const result = spawnSync(sshKeygenPath(), ['-Y', 'verify', '-f', allowedSignersPath, '-I', principal, '-n', namespace, '-s', signaturePath], {
    input: message,
    encoding: 'utf8',
  });
  return result.status === 0;
}
