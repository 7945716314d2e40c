/**
 * The allowed-signers file, in the format git uses for SSH commit signing (ssh-keygen(1), "ALLOWED SIGNERS"):
 *
 *   # principals            [options]                 key-type     base64-key                  [comment]
 *   alice@example.com                                 ssh-ed25519  AAAAC3NzaC1lZDI1NTE5AAAA…   alice's laptop
 *   bob,bob@example.com     namespaces="tollgate,git" ssh-ed25519  AAAAC3NzaC1lZDI1NTE5AAAA…
 *   carol                   valid-before="20270101Z"  ecdsa-sha2-nistp256 AAAAE2VjZHNh…
 *
 * It holds public keys only: it says which key speaks for which principal. Principals are compared trimmed and
 * case-insensitively (approvals/principal.ts). `namespaces="…"` restricts a key to those SSHSIG namespaces (a key
 * not allowed for `tollgate` never approves anything); `valid-after` / `valid-before` bound when it may be used
 * (YYYYMMDD[HHMM[SS]], local time unless it ends in Z, as ssh-keygen reads them). Lines this module cannot honour
 * exactly are skipped and reported, never half-understood: `cert-authority` (Tollgate does not verify SSH
 * certificates), wildcard or negated principal patterns (a `*` would let one key speak for everyone), and unknown
 * options. The worker re-reads the file whenever it verifies, so a key removed from it is refused at once, without
 * a restart.
 */
import { readFile } from 'node:fs/promises';
import { canonicalPrincipal } from './principal';
import { KEY_ALGORITHMS, parsePublicKey, SshKeyError, type SshPublicKey } from './ssh-keys';

export interface AllowedSigner {
  /** Canonical principals this key speaks for. */
  principals: string[];
  key: SshPublicKey;
  /** Namespace patterns (`namespaces="…"`); undefined means every namespace. */
  namespaces?: string[];
  validAfter?: number;
  validBefore?: number;
  /** 1-based line number in the file, for messages. */
  line: number;
}

export interface AllowedSigners {
  signers: AllowedSigner[];
  /** Lines that were skipped, and why. */
  problems: string[];
}

const OPTION_NAMES = new Set(['cert-authority', 'namespaces', 'valid-after', 'valid-before']);

/** Splits a line on blanks, keeping double-quoted runs (which may hold blanks and commas) together. */
function tokens(line: string): string[] {
  const found: string[] = [];
  let current = '';
  let quoted = false;
  let started = false;
  for (const char of line) {
    if (char === '"') {
      quoted = !quoted;
      current += char;
      started = true;
    } else if (!quoted && (char === ' ' || char === '\t')) {
      if (started) found.push(current);
      current = '';
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (quoted) throw new Error('unterminated quote');
  if (started) found.push(current);
  return found;
}

function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

/** Splits `a,b="x,y",c` on the commas outside quotes. */
function splitOptions(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    if (char === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/** ssh-keygen's timestamp: YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, local time unless suffixed Z. */
export function parseSignerTimestamp(text: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z)?$/.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => (part === undefined ? 0 : Number(part)));
  const ms = match[7] ? Date.UTC(year, month - 1, day, hour, minute, second) : new Date(year, month - 1, day, hour, minute, second).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

function globMatches(pattern: string, text: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return regex.test(text);
}

function parseLine(raw: string, lineNumber: number): AllowedSigner {
  const fields = tokens(raw);
  if (fields.length < 3) throw new Error('expected "principals [options] key-type base64-key [comment]"');
  const principals = unquote(fields[0])
    .split(',')
    .map((principal) => principal.trim());
  if (principals.some((principal) => /[*?!]/.test(principal))) throw new Error('wildcard or negated principal patterns are not supported');
  const canonical = principals.map((principal) => canonicalPrincipal(principal));
  if (canonical.some((principal) => principal === undefined)) throw new Error('a principal is blank or not a valid name');

  let index = 1;
  const signer: Omit<AllowedSigner, 'key'> = { principals: canonical as string[], line: lineNumber };
  if (!(KEY_ALGORITHMS as readonly string[]).includes(fields[1]) && !/^(sk-|ssh-|ecdsa-)/.test(fields[1])) {
    index = 2;
    for (const option of splitOptions(fields[1])) {
      const eq = option.indexOf('=');
      const name = (eq < 0 ? option : option.slice(0, eq)).toLowerCase();
      const value = eq < 0 ? undefined : unquote(option.slice(eq + 1));
      if (!OPTION_NAMES.has(name)) throw new Error(`unknown option ${name}`);
      if (name === 'cert-authority') throw new Error('cert-authority lines are not supported (Tollgate verifies plain keys only)');
      if (value === undefined || value === '') throw new Error(`${name} needs a value`);
      if (name === 'namespaces') {
        signer.namespaces = value.split(',').map((namespace) => namespace.trim()).filter((namespace) => namespace.length > 0);
      } else {
        const at = parseSignerTimestamp(value);
        if (at === undefined) throw new Error(`${name}: not a timestamp (YYYYMMDD[HHMM[SS]][Z])`);
        if (name === 'valid-after') signer.validAfter = at;
        else signer.validBefore = at;
      }
    }
  }
  if (fields.length < index + 2) throw new Error('missing key type or key');
  const key = parsePublicKey(fields[index], fields[index + 1]);
  return { ...signer, key };
}

/** Parses the file's text. Comment and blank lines are skipped; lines it cannot honour are reported in `problems`. */
export function parseAllowedSigners(text: string): AllowedSigners {
  const signers: AllowedSigner[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      signers.push(parseLine(line, index + 1));
    } catch (error) {
      const reason = error instanceof SshKeyError || error instanceof Error ? error.message : String(error);
      problems.push(`line ${index + 1}: ${reason}; line skipped`);
    }
  });
  return { signers, problems };
}

/** The keys that may sign for `principal` in `namespace` at time `at` (every key when a principal has several). */
export function keysFor(allowed: AllowedSigners, principal: string, namespace: string, at: number = Date.now()): AllowedSigner[] {
  const wanted = canonicalPrincipal(principal);
  if (!wanted) return [];
  return allowed.signers.filter(
    (signer) =>
      signer.principals.includes(wanted) &&
      (signer.namespaces === undefined || signer.namespaces.some((pattern) => globMatches(pattern, namespace))) &&
      (signer.validAfter === undefined || at >= signer.validAfter) &&
      (signer.validBefore === undefined || at < signer.validBefore),
  );
}

/**
 * The file on disk, re-read at every use: a key removed after a change was submitted is refused at once, without
 * restarting the worker. Parsing is skipped when the text did not change; problems are reported once per text.
 */
export class AllowedSignersFile {
  private text?: string;
  private parsed?: AllowedSigners;

  constructor(
    readonly path: string,
    private readonly onProblems: (problems: string[]) => void = () => undefined,
  ) {}

  /** The current contents; throws (ENOENT, EACCES) when the file cannot be read, which callers treat as "no keys". */
  async current(): Promise<AllowedSigners> {
    const text = await readFile(this.path, 'utf8');
    if (text !== this.text || !this.parsed) {
      this.parsed = parseAllowedSigners(text);
      this.text = text;
      if (this.parsed.problems.length > 0) this.onProblems(this.parsed.problems);
    }
    return this.parsed;
  }
}
