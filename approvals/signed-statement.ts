/**
 * A statement and the signature someone presents for it, checked against the allowed signers: the one place that
 * decides whether a principal really signed a statement. The worker's activities call it (never workflow code);
 * the CLI calls `signStatement` for `--key`. A refusal names its reason with a stable code:
 *
 *   unsigned           no signature was presented
 *   bad_signature      not an SSH signature, another namespace than `tollgate`, made by a key that is not one of the
 *                      principal's (e.g. carol's key presented as bob), or it does not verify (a tampered statement)
 *   unknown_principal  the allowed signers hold no usable key for the principal (never added, or removed since)
 */
import { keysFor, type AllowedSigners } from './allowed-signers';
import { canonicalPrincipal } from './principal';
import { parseArmoredSignature, signatureVerifies, signMessage, SshSignatureError } from './sshsig';
import type { SshPrivateKey } from './ssh-keys';
import { SIGNATURE_NAMESPACE } from './statement';

export type SignatureRefusalCode = 'unsigned' | 'bad_signature' | 'unknown_principal';

export type SignatureVerdict =
  | { ok: true; principal: string; fingerprint: string; algorithm: string }
  | { ok: false; code: SignatureRefusalCode; message: string };

/** Signs a statement's exact text in the `tollgate` namespace (what `ssh-keygen -Y sign -n tollgate` does). */
export function signStatement(statement: string, key: SshPrivateKey): string {
  return signMessage(statement, key, SIGNATURE_NAMESPACE);
}

export function verifyStatementSignature(input: {
  statement: string;
  principal: string;
  signature: string | undefined;
  allowed: AllowedSigners;
  at?: number;
}): SignatureVerdict {
  const principal = canonicalPrincipal(input.principal);
  if (!principal) return { ok: false, code: 'unknown_principal', message: 'a blank name is not a principal' };
  if (input.signature === undefined || input.signature.trim() === '') return { ok: false, code: 'unsigned', message: 'no signature was presented' };
  let signature;
  try {
    signature = parseArmoredSignature(input.signature);
  } catch (error) {
    if (error instanceof SshSignatureError) return { ok: false, code: 'bad_signature', message: error.message };
    throw error;
  }
  if (signature.namespace !== SIGNATURE_NAMESPACE) {
    return { ok: false, code: 'bad_signature', message: `the signature is in namespace "${signature.namespace}", not "${SIGNATURE_NAMESPACE}" (sign with -n ${SIGNATURE_NAMESPACE})` };
  }
  const keys = keysFor(input.allowed, principal, SIGNATURE_NAMESPACE, input.at);
  if (keys.length === 0) return { ok: false, code: 'unknown_principal', message: `the allowed signers hold no key for ${principal} in namespace ${SIGNATURE_NAMESPACE}` };
  const signer = keys.find((entry) => entry.key.wire.equals(signature.publicKey.wire));
  if (!signer) {
    const owners = input.allowed.signers.filter((entry) => entry.key.wire.equals(signature.publicKey.wire)).flatMap((entry) => entry.principals);
    const whose = owners.length > 0 ? `, which belongs to ${[...new Set(owners)].join(', ')}` : ', which is not in the allowed signers';
    return { ok: false, code: 'bad_signature', message: `signed with key ${signature.publicKey.fingerprint}${whose}, not with one of ${principal}'s keys` };
  }
  if (!signatureVerifies(input.statement, signature, signer.key, SIGNATURE_NAMESPACE)) {
    return { ok: false, code: 'bad_signature', message: `the signature by ${signer.key.fingerprint} does not verify over this statement (signed for another text, or tampered)` };
  }
  return { ok: true, principal, fingerprint: signer.key.fingerprint, algorithm: signer.key.algorithm };
}
