/**
 * The approvals domain on its own (approvals/): the canonical statement, SSHSIG signatures held to the real
 * OpenSSH `ssh-keygen` in both directions (it signs, we verify; we sign, it verifies), the allowed-signers format
 * git uses, and the refusal each forgery gets. No Temporal here: the end-to-end tests are change-gate-*.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AllowedSignersFile, keysFor, parseAllowedSigners, parseSignerTimestamp } from '../approvals/allowed-signers';
import { canonicalPrincipal, samePrincipal } from '../approvals/principal';
import { signStatement, verifyStatementSignature } from '../approvals/signed-statement';
import { parseArmoredSignature, signatureVerifies, signMessage } from '../approvals/sshsig';
import { generateEd25519Key, parsePrivateKey, parsePublicKey, publicKeyLine } from '../approvals/ssh-keys';
import { parseStatement, renderStatement, statementMismatch, type DecisionStatement } from '../approvals/statement';
import { requestHash, submissionStatement } from '../approvals/submission';
import { generateKeyWithSshKeygen, signWithSshKeygen, verifiesWithSshKeygen } from './ssh-keygen';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-approvals-'));

const approval: DecisionStatement = {
  decision: 'approve',
  namespace: 'default',
  changeId: 'pr-42-ivr-main',
  runId: '3f1c2a9e-0c1d-4e5f-8a9b-0123456789ab',
  target: { type: 'ivr', id: 'main-menu' },
  baseVersion: 7,
  payloadHash: 'a'.repeat(64),
  principal: 'bob',
};

describe('the statement', () => {
  it('is a versioned canonical text naming namespace, change, run, target, base version, payload hash, decision and principal', () => {
    expect(renderStatement(approval)).toBe(
      [
        'tollgate-statement v1',
        'namespace: default',
        'change: pr-42-ivr-main',
        'run: 3f1c2a9e-0c1d-4e5f-8a9b-0123456789ab',
        'target: ivr/main-menu',
        'base-version: 7',
        `payload-sha256: ${'a'.repeat(64)}`,
        'decision: approve',
        'principal: bob',
        '',
      ].join('\n'),
    );
    expect(parseStatement(renderStatement(approval))).toEqual({ ok: true, statement: approval });
  });

  it('writes the principal trimmed and in lower case, and refuses a blank one', () => {
    expect(renderStatement({ ...approval, principal: '  Bob ' })).toContain('\nprincipal: bob\n');
    expect(() => renderStatement({ ...approval, principal: '   ' })).toThrow(/not a principal/);
    expect(canonicalPrincipal(' ALICE ')).toBe('alice');
    expect(canonicalPrincipal(' \t ')).toBeUndefined();
    expect(samePrincipal('Alice', ' alice')).toBe(true);
    expect(samePrincipal('', '')).toBe(false);
  });

  it('names the first field that differs, so a signature for another change, run, base version or payload is refused with its reason', () => {
    const presented = (changes: Partial<DecisionStatement>) => renderStatement({ ...approval, ...changes });
    expect(statementMismatch(presented({}), approval)).toBeUndefined();
    expect(statementMismatch(presented({ namespace: 'staging' }), approval)?.code).toBe('wrong_namespace');
    expect(statementMismatch(presented({ changeId: 'pr-41' }), approval)?.code).toBe('wrong_change');
    expect(statementMismatch(presented({ runId: 'another-run' }), approval)?.code).toBe('wrong_run');
    expect(statementMismatch(presented({ target: { type: 'ivr', id: 'other' } }), approval)?.code).toBe('wrong_target');
    expect(statementMismatch(presented({ baseVersion: 6 }), approval)?.code).toBe('wrong_base_version');
    expect(statementMismatch(presented({ payloadHash: 'b'.repeat(64) }), approval)?.code).toBe('wrong_payload_hash');
    expect(statementMismatch(presented({ decision: 'reject' }), approval)?.code).toBe('wrong_decision');
    expect(statementMismatch(presented({ principal: 'carol' }), approval)?.code).toBe('principal_mismatch');
    const text = presented({});
    for (const bad of [text.replace('\n', '\r\n'), text.trimEnd(), `${text}extra: 1\n`, text.replace('base-version: 7', 'base-version: 07'), 'hello', 42]) {
      expect(statementMismatch(bad, approval)?.code).toBe('malformed_statement');
    }
  });

  it('binds a submission to the requested fields and the linked pull request', () => {
    const request = { changeId: 'pr-42', target: { type: 'ivr', id: 'main' }, desired: { b: 1, a: { y: 2, x: 1 } }, requester: 'Alice' };
    expect(requestHash(request)).toBe(requestHash({ ...request, desired: { a: { x: 1, y: 2 }, b: 1 } }));
    expect(requestHash(request)).not.toBe(requestHash({ ...request, desired: { b: 2, a: { y: 2, x: 1 } } }));
    const text = renderStatement(submissionStatement({ ...request, pullRequest: 'acme/config#7:genesys/ivr/main.json' }, 'default'));
    expect(text).toContain('\npull-request: acme/config#7:genesys/ivr/main.json\ndecision: submit\nprincipal: alice\n');
    expect(parseStatement(text).ok).toBe(true);
  });
});

describe('SSH signatures (PROTOCOL.sshsig) against the real ssh-keygen', () => {
  const message = renderStatement(approval);

  it('verifies a fixed vector made by ssh-keygen -Y sign -n tollgate', () => {
    const key = parsePublicKey('ssh-ed25519', 'AAAAC3NzaC1lZDI1NTE5AAAAINYylUc95lZRnZvdvcjTPYMPHYZD/5YhLayeZWWstyFz');
    const signature = parseArmoredSignature(
      [
        '-----BEGIN SSH SIGNATURE-----',
        'U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg1jKVRz3mVlGdm929yNM9gw8dhk',
        'P/liEtrJ5lZay3IXMAAAAIdG9sbGdhdGUAAAAAAAAABnNoYTUxMgAAAFMAAAALc3NoLWVk',
        'MjU1MTkAAABA+K8v6A5Sj967NqkmJ9dC71z8D27HWg8S7D9f2aCQBWlYqXCxJUd+k7hxSs',
        'LguFBOILorCDYoBTdOdDVC/rOaBA==',
        '-----END SSH SIGNATURE-----',
      ].join('\n'),
    );
    expect(key.fingerprint).toBe('SHA256:O2nFEAAM99Tmry+iWbmScc/KZdUGCXnXKWLMIwQRvcw');
    expect(signature).toMatchObject({ namespace: 'tollgate', hashAlgorithm: 'sha512', signatureAlgorithm: 'ssh-ed25519' });
    expect(signatureVerifies('hello\n', signature, key, 'tollgate')).toBe(true);
    expect(signatureVerifies('hello', signature, key, 'tollgate')).toBe(false);
    expect(signatureVerifies('hello\n', signature, key, 'git')).toBe(false);
  });

  it('says what is wrong with a signature of the wrong length or format, rather than calling it something else', () => {
    const lines = [
      'U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg1jKVRz3mVlGdm929yNM9gw8dhk',
      'P/liEtrJ5lZay3IXMAAAAIdG9sbGdhdGUAAAAAAAAABnNoYTUxMgAAAFMAAAALc3NoLWVk',
      'MjU1MTkAAABA+K8v6A5Sj967NqkmJ9dC71z8D27HWg8S7D9f2aCQBWlYqXCxJUd+k7hxSs',
      'LguFBOILorCDYoBTdOdDVC/rOaBA==',
    ];
    const armored = (body: string[]) => ['-----BEGIN SSH SIGNATURE-----', ...body, '-----END SSH SIGNATURE-----'].join('\n');
    // Cut mid-line: the base64 is no longer a multiple of 4.
    expect(() => parseArmoredSignature(armored([lines[0], lines[1].slice(0, 31)]))).toThrow(/base64 is 101 characters, not a multiple of 4: it was cut short/);
    // Cut at a line boundary: valid base64, but shorter than its own fields say.
    expect(() => parseArmoredSignature(armored(lines.slice(0, 2)))).toThrow(/^truncated signature: it is 105 bytes and ends inside a field/);
    expect(() => parseArmoredSignature(armored([`${lines[0].slice(0, -2)}!!`, ...lines.slice(1)]))).toThrow(/not base64 \(it holds characters base64 does not use\)/);
    // A payload hash of the wrong length says its length.
    expect(() => renderStatement({ ...approval, payloadHash: 'a'.repeat(63) })).toThrow('the hash is 63 characters; a sha256 hash is 64 lower-case hex characters');
    expect(() => renderStatement({ ...approval, payloadHash: 'A'.repeat(64) })).toThrow('the hash holds characters other than lower-case hex (0-9, a-f)');
  });

  it.each(['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa'] as const)('accepts what ssh-keygen signs with an %s key, and ssh-keygen accepts what we sign with it', (type) => {
    const path = join(dir, `key-${type}`);
    const line = generateKeyWithSshKeygen(path, type, `bob-${type}`);
    const allowedPath = join(dir, `allowed-${type}`);
    writeFileSync(allowedPath, `bob ${line}\n`);
    const allowed = parseAllowedSigners(readFileSync(allowedPath, 'utf8'));
    expect(allowed.problems).toEqual([]);

    const theirs = signWithSshKeygen(path, message);
    expect(verifyStatementSignature({ statement: message, principal: 'bob', signature: theirs, allowed })).toMatchObject({ ok: true, principal: 'bob' });

    const ours = signStatement(message, parsePrivateKey(readFileSync(path, 'utf8')));
    expect(verifiesWithSshKeygen(allowedPath, 'bob', message, ours, dir)).toBe(true);
    expect(verifyStatementSignature({ statement: message, principal: 'BOB ', signature: ours, allowed }).ok).toBe(true);
    // A tampered statement, under either signature.
    const tampered = message.replace('base-version: 7', 'base-version: 8');
    expect(verifyStatementSignature({ statement: tampered, principal: 'bob', signature: theirs, allowed })).toMatchObject({ ok: false, code: 'bad_signature' });
    expect(verifiesWithSshKeygen(allowedPath, 'bob', tampered, ours, dir)).toBe(false);
  });

  it('generates Ed25519 keys in OpenSSH format that ssh-keygen signs with', () => {
    const { privateKeyText, publicKey } = generateEd25519Key('alice@tollgate-sandbox');
    expect(privateKeyText).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    const path = join(dir, 'generated');
    writeFileSync(path, privateKeyText, { mode: 0o600 });
    const allowed = parseAllowedSigners(`alice ${publicKeyLine(publicKey)}\n`);
    const signature = signWithSshKeygen(path, message);
    expect(verifyStatementSignature({ statement: message, principal: 'alice', signature, allowed }).ok).toBe(true);
  });

  it('refuses a signature by carol presented as bob, one in another namespace, garbage, and none at all', () => {
    const bob = generateEd25519Key('bob');
    const carolPath = join(dir, 'carol');
    const carolLine = generateKeyWithSshKeygen(carolPath, 'ed25519', 'carol');
    const allowed = parseAllowedSigners(`bob ${publicKeyLine(bob.publicKey)}\ncarol ${carolLine}\n`);
    const byCarol = signWithSshKeygen(carolPath, message);
    const asBob = verifyStatementSignature({ statement: message, principal: 'bob', signature: byCarol, allowed });
    expect(asBob).toMatchObject({ ok: false, code: 'bad_signature' });
    expect(!asBob.ok && asBob.message).toMatch(/belongs to carol/);
    expect(verifyStatementSignature({ statement: message, principal: 'carol', signature: byCarol, allowed }).ok).toBe(true);

    const inGit = signWithSshKeygen(carolPath, message, 'git');
    expect(verifyStatementSignature({ statement: message, principal: 'carol', signature: inGit, allowed })).toMatchObject({ ok: false, code: 'bad_signature' });

    const armored = byCarol.trim().split('\n');
    const truncated = [armored[0], armored[1].slice(0, 20), armored[armored.length - 1]].join('\n');
    for (const garbage of [truncated, 'ab'.repeat(32), '-----BEGIN SSH SIGNATURE-----\n!!!\n-----END SSH SIGNATURE-----', 'x'.repeat(20_000)]) {
      expect(verifyStatementSignature({ statement: message, principal: 'carol', signature: garbage, allowed })).toMatchObject({ ok: false, code: 'bad_signature' });
    }
    expect(verifyStatementSignature({ statement: message, principal: 'carol', signature: '  ', allowed })).toMatchObject({ ok: false, code: 'unsigned' });
    expect(verifyStatementSignature({ statement: message, principal: 'dave', signature: byCarol, allowed })).toMatchObject({ ok: false, code: 'unknown_principal' });
  });

  it('produces signatures ssh-keygen reads, with both hash algorithms', () => {
    const path = join(dir, 'hashes');
    const line = generateKeyWithSshKeygen(path, 'ed25519', 'dave');
    const allowedPath = join(dir, 'allowed-hashes');
    writeFileSync(allowedPath, `dave ${line}\n`);
    const key = parsePrivateKey(readFileSync(path, 'utf8'));
    for (const hash of ['sha256', 'sha512'] as const) {
      expect(verifiesWithSshKeygen(allowedPath, 'dave', message, signMessage(message, key, 'tollgate', hash), dir)).toBe(true);
    }
  });
});

describe('the allowed-signers file (git format)', () => {
  const alice = generateEd25519Key('alice');
  const bob = generateEd25519Key('bob');
  const key = (k: { publicKey: Parameters<typeof publicKeyLine>[0] }) => publicKeyLine(k.publicKey);

  it('reads several principals per line, options, comments and blank lines; principals are case-insensitive', () => {
    const allowed = parseAllowedSigners(
      [
        '# who may sign',
        '',
        `Alice@Example.com,alice ${key(alice)} alice's laptop`,
        `bob namespaces="git,tollgate" ${key(bob)}`,
      ].join('\n'),
    );
    expect(allowed.problems).toEqual([]);
    expect(keysFor(allowed, 'ALICE', 'tollgate')).toHaveLength(1);
    expect(keysFor(allowed, 'alice@example.com', 'tollgate')).toHaveLength(1);
    expect(keysFor(allowed, 'bob', 'tollgate')).toHaveLength(1);
    expect(keysFor(allowed, 'bob', 'file')).toHaveLength(0);
  });

  it('honours namespaces and validity, and skips what it cannot honour exactly (cert-authority, wildcards, unknown options)', () => {
    const allowed = parseAllowedSigners(
      [
        `alice namespaces="git" ${key(alice)}`,
        `bob valid-before="20200101Z" ${key(bob)}`,
        `carol cert-authority ${key(alice)}`,
        `*@example.com ${key(alice)}`,
        `dave no-touch-required ${key(bob)}`,
        `erin ssh-dss AAAAB3NzaC1kc3MAAACBAP`,
      ].join('\n'),
    );
    expect(keysFor(allowed, 'alice', 'tollgate')).toHaveLength(0);
    expect(keysFor(allowed, 'bob', 'tollgate')).toHaveLength(0);
    expect(keysFor(allowed, 'bob', 'tollgate', Date.UTC(2019, 0, 1))).toHaveLength(1);
    expect(allowed.problems).toEqual([
      expect.stringMatching(/^line 3: cert-authority lines are not supported/),
      expect.stringMatching(/^line 4: wildcard/),
      expect.stringMatching(/^line 5: unknown option no-touch-required/),
      expect.stringMatching(/^line 6: unsupported key type ssh-dss/),
    ]);
    expect(parseSignerTimestamp('20260102Z')).toBe(Date.UTC(2026, 0, 2));
    expect(parseSignerTimestamp('202601021230Z')).toBe(Date.UTC(2026, 0, 2, 12, 30));
    expect(parseSignerTimestamp('2026-01-02')).toBeUndefined();
  });

  it('is re-read at every use, so a removed key stops verifying without a restart', async () => {
    const path = join(dir, 'allowed_signers');
    writeFileSync(path, `alice ${key(alice)}\nbob ${key(bob)}\n`);
    const file = new AllowedSignersFile(path);
    expect(keysFor(await file.current(), 'bob', 'tollgate')).toHaveLength(1);
    writeFileSync(path, `alice ${key(alice)}\n`);
    expect(keysFor(await file.current(), 'bob', 'tollgate')).toHaveLength(0);
  });
});
