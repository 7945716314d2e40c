/**
 * OpenSSH signatures (PROTOCOL.sshsig), the format `ssh-keygen -Y sign` writes and git uses for SSH commit signing:
 *
 *   -----BEGIN SSH SIGNATURE-----
 *   base64( "SSHSIG" ‖ uint32 1 ‖ string publickey ‖ string namespace ‖ string reserved ‖ string hash_algorithm ‖
 *           string signature )
 *   -----END SSH SIGNATURE-----
 *
 * where `signature` is an SSH signature (string algorithm ‖ string blob) over
 * "SSHSIG" ‖ string namespace ‖ string reserved ‖ string hash_algorithm ‖ string H(message).
 *
 * No maintained JavaScript library reads this framing, and it is six documented fields, so it is parsed here,
 * strictly (any trailing byte, unknown version or odd length is a refusal, never a throw that escapes); the
 * arithmetic is node:crypto's (Ed25519, ECDSA over the NIST curves, RSA with SHA-2). Signing (the CLI's `--key`)
 * and verifying (the worker's activity) share this module, and the tests hold it to the real `ssh-keygen`.
 */
import { createHash, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { publicKeyFromWire, SshKeyError, type SshPrivateKey, type SshPublicKey } from './ssh-keys';

const MAGIC = Buffer.from('SSHSIG');
const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
/** A generous bound: an RSA-8192 signature armors to under 3 KB. */
export const MAX_ARMORED_SIGNATURE_LENGTH = 16 * 1024;

export type SignatureHash = 'sha256' | 'sha512';

export class SshSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SshSignatureError';
  }
}

export interface SshSignature {
  publicKey: SshPublicKey;
  namespace: string;
  hashAlgorithm: SignatureHash;
  /** The SSH signature algorithm: `ssh-ed25519`, `ecdsa-sha2-nistp256`, `rsa-sha2-512`, … */
  signatureAlgorithm: string;
  signature: Buffer;
}

/** Reads SSH wire strings out of a buffer, with bounds checks that turn any short read into SshSignatureError. */
class WireReader {
  private offset = 0;
  constructor(private readonly data: Buffer) {}

  uint32(): number {
    if (this.offset + 4 > this.data.length) throw this.truncated(4);
    const value = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  bytes(): Buffer {
    const length = this.uint32();
    if (length > this.data.length - this.offset) throw this.truncated(length);
    const value = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** A short read: the signature is shorter than its own fields say (cut short), never a throw that escapes. */
  private truncated(wanted: number): SshSignatureError {
    return new SshSignatureError(
      `truncated signature: it is ${this.data.length} bytes and ends inside a field (${wanted} more bytes wanted at byte ${this.offset}); it was cut short or copied incompletely`,
    );
  }

  text(): string {
    const value = this.bytes();
    const text = value.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(value)) throw new SshSignatureError('a text field is not UTF-8');
    return text;
  }

  raw(length: number): Buffer {
    if (this.offset + length > this.data.length) throw this.truncated(length);
    const value = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  end(): void {
    if (this.offset !== this.data.length) throw new SshSignatureError('trailing bytes after the signature');
  }
}

function wireString(value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function mpint(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length && value[start] === 0) start += 1;
  const trimmed = value.subarray(start);
  return wireString(trimmed.length > 0 && trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** What the signature covers: the namespace and the message's hash, never the message itself (PROTOCOL.sshsig). */
function signedData(message: Buffer, namespace: string, hashAlgorithm: SignatureHash): Buffer {
  const digest = createHash(hashAlgorithm).update(message).digest();
  return Buffer.concat([MAGIC, wireString(namespace), wireString(''), wireString(hashAlgorithm), wireString(digest)]);
}

const CURVE_BYTES: Record<string, { hash: string; bytes: number }> = {
  'ecdsa-sha2-nistp256': { hash: 'sha256', bytes: 32 },
  'ecdsa-sha2-nistp384': { hash: 'sha384', bytes: 48 },
  'ecdsa-sha2-nistp521': { hash: 'sha512', bytes: 66 },
};

/** Parses an armored SSH signature; throws SshSignatureError (with why) for anything that is not one. */
export function parseArmoredSignature(armored: unknown): SshSignature {
  if (typeof armored !== 'string') throw new SshSignatureError('the signature is not text');
  if (armored.length > MAX_ARMORED_SIGNATURE_LENGTH) throw new SshSignatureError('the signature is too long');
  const lines = armored.trim().split(/\r?\n/).map((line) => line.trim());
  if (lines[0] !== BEGIN || lines[lines.length - 1] !== END || lines.length < 3) {
    throw new SshSignatureError(`not an armored SSH signature (${BEGIN} … ${END})`);
  }
  const body = lines.slice(1, -1).join('');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new SshSignatureError('the signature is not base64 (it holds characters base64 does not use)');
  if (body.length % 4 !== 0) {
    throw new SshSignatureError(`the signature's base64 is ${body.length} characters, not a multiple of 4: it was cut short or copied incompletely`);
  }
  const reader = new WireReader(Buffer.from(body, 'base64'));
  if (!reader.raw(MAGIC.length).equals(MAGIC)) throw new SshSignatureError('not an SSHSIG signature (magic)');
  const version = reader.uint32();
  if (version !== 1) throw new SshSignatureError(`unsupported SSHSIG version ${version}`);
  const publicKeyWire = reader.bytes();
  const namespace = reader.text();
  reader.bytes(); // reserved: ignored, as PROTOCOL.sshsig says
  const hashAlgorithm = reader.text();
  const signatureBlob = reader.bytes();
  reader.end();
  if (hashAlgorithm !== 'sha256' && hashAlgorithm !== 'sha512') throw new SshSignatureError(`unsupported hash algorithm ${hashAlgorithm}`);
  const inner = new WireReader(signatureBlob);
  const signatureAlgorithm = inner.text();
  const signature = inner.bytes();
  inner.end();
  let publicKey: SshPublicKey;
  try {
    publicKey = publicKeyFromWire(publicKeyWire);
  } catch (error) {
    if (error instanceof SshKeyError) throw new SshSignatureError(error.message);
    throw error;
  }
  return { publicKey, namespace, hashAlgorithm, signatureAlgorithm, signature };
}

/**
 * True when `signature` is `key`'s signature over `message` in `namespace`. False — never a throw — for a signature
 * by another key, in another namespace, with an algorithm that does not fit the key, or that does not verify.
 * The key that verifies is the caller's (from allowed signers), not the one the signature carries.
 */
export function signatureVerifies(message: Buffer | string, signature: SshSignature, key: SshPublicKey, namespace: string): boolean {
  if (signature.namespace !== namespace) return false;
  if (!signature.publicKey.wire.equals(key.wire)) return false;
  const data = signedData(Buffer.from(message), namespace, signature.hashAlgorithm);
  try {
    if (key.algorithm === 'ssh-ed25519') {
      return signature.signatureAlgorithm === 'ssh-ed25519' && signature.signature.length === 64 && cryptoVerify(null, data, key.keyObject, signature.signature);
    }
    if (key.algorithm === 'ssh-rsa') {
      // SHA-1 (`ssh-rsa`) signatures are refused, as ssh-keygen refuses them for SSHSIG.
      const hash = signature.signatureAlgorithm === 'rsa-sha2-512' ? 'sha512' : signature.signatureAlgorithm === 'rsa-sha2-256' ? 'sha256' : undefined;
      return hash !== undefined && cryptoVerify(hash, data, key.keyObject, signature.signature);
    }
    const curve = CURVE_BYTES[key.algorithm];
    if (!curve || signature.signatureAlgorithm !== key.algorithm) return false;
    const reader = new WireReader(signature.signature);
    const r = reader.bytes();
    const s = reader.bytes();
    reader.end();
    const fixed = (value: Buffer): Buffer | undefined => {
      let start = 0;
      while (start < value.length - 1 && value[start] === 0) start += 1;
      const trimmed = value.subarray(start);
      if (trimmed.length > curve.bytes) return undefined;
      return Buffer.concat([Buffer.alloc(curve.bytes - trimmed.length), trimmed]);
    };
    const rs = [fixed(r), fixed(s)];
    if (!rs[0] || !rs[1]) return false;
    return cryptoVerify(curve.hash, data, { key: key.keyObject, dsaEncoding: 'ieee-p1363' }, Buffer.concat([rs[0], rs[1]]));
  } catch {
    return false;
  }
}

/** Signs `message` with `key` in `namespace`: the same armored text `ssh-keygen -Y sign -n <namespace>` writes. */
export function signMessage(message: Buffer | string, key: SshPrivateKey, namespace: string, hashAlgorithm: SignatureHash = 'sha512'): string {
  const data = signedData(Buffer.from(message), namespace, hashAlgorithm);
  const { algorithm } = key.publicKey;
  let inner: Buffer;
  if (algorithm === 'ssh-ed25519') {
    inner = Buffer.concat([wireString('ssh-ed25519'), wireString(cryptoSign(null, data, key.keyObject))]);
  } else if (algorithm === 'ssh-rsa') {
    inner = Buffer.concat([wireString('rsa-sha2-512'), wireString(cryptoSign('sha512', data, key.keyObject))]);
  } else {
    const curve = CURVE_BYTES[algorithm];
    const rs = cryptoSign(curve.hash, data, { key: key.keyObject, dsaEncoding: 'ieee-p1363' });
    const blob = Buffer.concat([mpint(rs.subarray(0, curve.bytes)), mpint(rs.subarray(curve.bytes))]);
    inner = Buffer.concat([wireString(algorithm), wireString(blob)]);
  }
  const version = Buffer.alloc(4);
  version.writeUInt32BE(1);
  const blob = Buffer.concat([MAGIC, version, wireString(key.publicKey.wire), wireString(namespace), wireString(''), wireString(hashAlgorithm), wireString(inner)]);
  const base64 = blob.toString('base64');
  const lines: string[] = [];
  // ssh-keygen wraps at 70 characters.
  for (let at = 0; at < base64.length; at += 70) lines.push(base64.slice(at, at + 70));
  return `${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}
