/**
 * How the CLI gets the signature a statement needs: `--signature FILE` (or `-` for stdin: an armored SSH
 * signature made elsewhere, e.g. `ssh-keygen -Y sign -n tollgate -f KEY statement.txt`), or `--key PATH` (the CLI
 * signs in-process, in exactly the same format). In sandbox mode only, a missing `--key` defaults to the
 * sandbox person's generated key `.tollgate/keys/<name>`, so the demo shows the real mechanism; outside it, the
 * CLI never guesses which private key to use.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalPrincipal } from '../approvals/principal';
import { signStatement } from '../approvals/signed-statement';
import { parsePrivateKey, SshKeyError } from '../approvals/ssh-keys';
import { MAX_ARMORED_SIGNATURE_LENGTH } from '../approvals/sshsig';
import type { Config } from '../platform/config';
import { CliError, EXIT } from './context';

export interface SigningOptions {
  key?: string;
  signature?: string;
}

/** Where `tollgate dev` keeps the sandbox people's private keys. */
export function sandboxKeyPath(config: Pick<Config, 'home'>, principal: string): string {
  return join(config.home, 'keys', principal);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(Buffer.from(chunk as Buffer));
    if (chunks.reduce((size, part) => size + part.length, 0) > MAX_ARMORED_SIGNATURE_LENGTH) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a text file (`-`: stdin) for --signature / --statement. */
export async function readTextArgument(path: string, what: string): Promise<string> {
  try {
    return path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${what} ${path}: ${(error as Error).message}`, EXIT.usage);
  }
}

/** The armored signature over `statement` by `principal`, from --signature, --key or (sandbox) the default key. */
export async function signatureFor(config: Config, options: SigningOptions, principal: string, statement: string): Promise<string> {
  if (options.key && options.signature) throw new CliError('give --key or --signature, not both', EXIT.usage);
  if (options.signature) return readTextArgument(options.signature, 'the signature');
  const name = canonicalPrincipal(principal);
  let keyPath = options.key;
  if (!keyPath) {
    if (!config.sandbox || !name) {
      throw new CliError(`${principal} must sign: --key PATH (an SSH private key) or --signature FILE (an armored SSH signature, - for stdin)`, EXIT.usage);
    }
    keyPath = sandboxKeyPath(config, name);
  }
  let text: string;
  try {
    text = await readFile(keyPath, 'utf8');
  } catch (error) {
    const hint = options.key ? '' : ' (sandbox keys are made by `npm start` for alice, bob, carol and dave)';
    throw new CliError(`cannot read the key ${keyPath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}${hint}`, EXIT.usage);
  }
  try {
    return signStatement(statement, parsePrivateKey(text));
  } catch (error) {
    if (error instanceof SshKeyError) throw new CliError(`${keyPath}: ${error.message}`, EXIT.usage);
    throw error;
  }
}
