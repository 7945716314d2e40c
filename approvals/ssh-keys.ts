/**
 * SSH keys as OpenSSH writes them: public keys (`ssh-ed25519 AAAA…`, the allowed-signers file, the key inside an
 * SSHSIG signature), private key files (`-----BEGIN OPENSSH PRIVATE KEY-----`, what `ssh-keygen` writes and the
 * CLI's `--key` reads), fingerprints (`SHA256:…`, as `ssh-keygen -l` prints them), and new Ed25519 key pairs for the
 * sandbox. `sshpk` parses and writes the OpenSSH formats; the keys are handed to node:crypto as KeyObjects for the
 * signature arithmetic (approvals/sshsig.ts). The worker only ever calls the public-key half of this module.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import sshpk from 'sshpk';

/** Key algorithms accepted in allowed signers and signatures. */
export const KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** RSA keys below this size are refused (ssh-keygen's own floor is 1024; NIST's is 2048). */
export const MIN_RSA_BITS = 2048;

export class SshKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SshKeyError';
  }
}

export interface SshPublicKey {
  algorithm: KeyAlgorithm;
  /** The key in SSH wire format (RFC 4253), as it appears base64-encoded in allowed signers and in SSHSIG. */
  wire: Buffer;
  /** `SHA256:<base64>`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** For node:crypto's verify. */
  keyObject: KeyObject;
}

export interface SshPrivateKey {
  publicKey: SshPublicKey;
  /** For node:crypto's sign. */
  keyObject: KeyObject;
}

function algorithmOf(key: sshpk.Key): KeyAlgorithm {
  if (key.type === 'ed25519') return 'ssh-ed25519';
  if (key.type === 'rsa') {
    if (key.size < MIN_RSA_BITS) throw new SshKeyError(`RSA keys of ${key.size} bits are refused (at least ${MIN_RSA_BITS})`);
    return 'ssh-rsa';
  }
  if (key.type === 'ecdsa') {
    const curve = (key as unknown as { curve?: string }).curve;
    if (curve === 'nistp256' || curve === 'nistp384' || curve === 'nistp521') return `ecdsa-sha2-${curve}`;
  }
  throw new SshKeyError(`unsupported key type ${key.type} (use ed25519, ecdsa or rsa)`);
}

function base64url(data: Buffer): string {
  return data.toString('base64url');
}

function part(key: sshpk.Key | sshpk.PrivateKey, name: string): Buffer {
  const found = (key.part as unknown as Record<string, { data: Buffer } | undefined>)[name];
  if (!found) throw new SshKeyError(`the key has no ${name}`);
  return found.data;
}

/** Ed25519 parts may carry a leading zero byte in some encodings: keep the last 32 bytes. */
function ed25519Bytes(data: Buffer): Buffer {
  return data.length > 32 ? data.subarray(data.length - 32) : data;
}

function publicKeyOf(key: sshpk.Key): SshPublicKey {
  const algorithm = algorithmOf(key);
  const keyObject =
    algorithm === 'ssh-ed25519'
      ? createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: base64url(ed25519Bytes(part(key, 'A'))) }, format: 'jwk' })
      : createPublicKey(key.toString('pkcs8'));
  return { algorithm, wire: key.toBuffer('rfc4253'), fingerprint: key.fingerprint('sha256').toString(), keyObject };
}

/** A public key from its type name and base64 wire blob (an allowed-signers or authorized_keys entry). */
export function parsePublicKey(algorithm: string, base64: string): SshPublicKey {
  if (!(KEY_ALGORITHMS as readonly string[]).includes(algorithm)) throw new SshKeyError(`unsupported key type ${algorithm}`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new SshKeyError('the key is not base64');
  const key = publicKeyFromWire(Buffer.from(base64, 'base64'));
  if (key.algorithm !== algorithm) throw new SshKeyError(`the key says ${algorithm} but is ${key.algorithm}`);
  return key;
}

/** A public key from its SSH wire form (the `publickey` field of an SSHSIG signature). */
export function publicKeyFromWire(wire: Buffer): SshPublicKey {
  let key: sshpk.Key;
  try {
    key = sshpk.parseKey(wire, 'rfc4253');
  } catch (error) {
    throw new SshKeyError(`not an SSH public key: ${(error as Error).message}`);
  }
  const parsed = publicKeyOf(key);
  // What we hold must be what we were given, byte for byte (no second encoding of the same key slips through).
  if (!parsed.wire.equals(wire)) throw new SshKeyError('the public key is not in canonical SSH wire form');
  return parsed;
}

/** A private key file's text: OpenSSH (`ssh-keygen`'s default) or PEM. Encrypted keys are refused with a hint. */
export function parsePrivateKey(text: string): SshPrivateKey {
  let key: sshpk.PrivateKey;
  try {
    key = sshpk.parsePrivateKey(text, 'auto');
  } catch (error) {
    if ((error as Error).name === 'KeyEncryptedError') {
      throw new SshKeyError('the key is encrypted: sign with `ssh-keygen -Y sign -n tollgate -f KEY` (it asks for the passphrase) and pass --signature');
    }
    throw new SshKeyError(`not an SSH private key: ${(error as Error).message}`);
  }
  const publicKey = publicKeyOf(key.toPublic());
  const keyObject =
    publicKey.algorithm === 'ssh-ed25519'
      ? createPrivateKey({
          key: { kty: 'OKP', crv: 'Ed25519', x: base64url(ed25519Bytes(part(key, 'A'))), d: base64url(part(key, 'k').subarray(0, 32)) },
          format: 'jwk',
        })
      : createPrivateKey(key.toString('pkcs8'));
  return { publicKey, keyObject };
}

/** `ssh-ed25519 AAAA… comment`: the public half as one authorized_keys / allowed-signers key field. */
export function publicKeyLine(key: SshPublicKey, comment?: string): string {
  return `${key.algorithm} ${key.wire.toString('base64')}${comment ? ` ${comment}` : ''}`;
}

/** A new Ed25519 key pair: the private key in OpenSSH's own file format (what `ssh-keygen -t ed25519` writes, and
 * what `ssh-keygen -Y sign -f` reads) and the public key. */
export function generateEd25519Key(comment: string): { privateKeyText: string; publicKey: SshPublicKey } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const key = sshpk.parsePrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'pkcs8');
  key.comment = comment;
  const privateKeyText = key.toString('ssh');
  return { privateKeyText, publicKey: parsePrivateKey(privateKeyText).publicKey };
}
