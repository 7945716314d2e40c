/**
 * Outbound change events are signed in the Standard Webhooks format (outbound/standard-webhooks.ts, the
 * `standardwebhooks` package): checked against the specification's public test vector (the one every reference
 * library's tests use, in the standard-webhooks/standard-webhooks repository), and against two verifiers that
 * share no code with the signer — HMAC-SHA256 per the specification with node:crypto, and Python's standard library
 * in a process of its own. Also: rotation (one signature per active secret), the event's shape and stable ID, the
 * endpoint filters, and the retry timing.
 */
import { spawnSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { eventId, eventPayload, eventWanted, matchesPattern, toChangeEvent } from '../outbound/change-events';
import { parseRetryAfter, retryDelayMs } from '../outbound/event-sink';
import { signatureHeader, standardWebhookHeaders, type StandardWebhookHeaders } from '../outbound/standard-webhooks';
import { ConfigError, loadConfig, webhookSecretProblem } from '../platform/config';
import type { LedgerRow } from '../workflows/ledger-records';

/** The specification's public vector (libraries' "sign function works" test). */
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
/** A well-formed signature over something else (the libraries' "invalid signature" and multi-signature tests). */
const FOREIGN_SIGNATURE = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';

/** Verification written from the specification alone: HMAC-SHA256 over "<id>.<timestamp>.<body>" with the base64
 * key after `whsec_`, any `v1` signature of the space-separated list, compared in constant time. */
function verifiesPerSpecification(secret: string, headers: StandardWebhookHeaders, body: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`, 'utf8').digest();
  return headers['webhook-signature'].split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    if (version !== 'v1' || signature === undefined) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const PYTHON_VERIFIER = `
import base64, hashlib, hmac, json, sys
request = json.load(sys.stdin)
key = base64.b64decode(request["secret"].removeprefix("whsec_"))
h = request["headers"]
signed = (h["webhook-id"] + "." + h["webhook-timestamp"] + ".").encode() + request["body"].encode()
expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
ok = any(part.split(",", 1)[0] == "v1" and hmac.compare_digest(part.split(",", 1)[1], expected)
         for part in h["webhook-signature"].split(" ") if "," in part)
print("valid" if ok else "invalid")
`;

/** Python's hmac, hashlib and base64, in a process of its own. */
function verifiesInPython(secret: string, headers: StandardWebhookHeaders, body: string): boolean {
  const run = spawnSync('python3', ['-c', PYTHON_VERIFIER], { input: JSON.stringify({ secret, headers, body }), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return run.stdout.trim() === 'valid';
}

const ledgerRow = (overrides: Partial<LedgerRow> = {}): LedgerRow => ({
  seq: 42,
  recordedAt: '2026-11-30T10:00:00.000Z',
  key: 'change:chg-1:approval:bob',
  kind: 'change.approved',
  subject: 'change:chg-1',
  data: { principal: 'bob', via: 'signature', payloadHash: 'ab'.repeat(32), approvals: 1, required: 2 },
  hash: '0123456789abcdef'.repeat(4),
  prevHash: 'f'.repeat(64),
  ...overrides,
});

describe('Standard Webhooks signing of outbound events', () => {
  it('reproduces the specification\'s public test vector, with and without the whsec_ prefix', () => {
    const at = new Date(VECTOR.timestamp * 1000);
    expect(signatureHeader([VECTOR.secret], VECTOR.id, at, VECTOR.payload)).toBe(VECTOR.signature);
    expect(signatureHeader([VECTOR.secret.slice('whsec_'.length)], VECTOR.id, at, VECTOR.payload)).toBe(VECTOR.signature);
    const headers = { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature };
    expect(verifiesPerSpecification(VECTOR.secret, headers, VECTOR.payload)).toBe(true);
    expect(verifiesInPython(VECTOR.secret, headers, VECTOR.payload)).toBe(true);
    // The vector's foreign signature verifies nowhere; next to a good one (the multi-signature case) it does no harm.
    expect(verifiesPerSpecification(VECTOR.secret, { ...headers, 'webhook-signature': FOREIGN_SIGNATURE }, VECTOR.payload)).toBe(false);
    expect(verifiesInPython(VECTOR.secret, { ...headers, 'webhook-signature': FOREIGN_SIGNATURE }, VECTOR.payload)).toBe(false);
    const several = [FOREIGN_SIGNATURE, FOREIGN_SIGNATURE.replace('v1,', 'v2,'), VECTOR.signature].join(' ');
    expect(verifiesPerSpecification(VECTOR.secret, { ...headers, 'webhook-signature': several }, VECTOR.payload)).toBe(true);
  });

  it('signs a real event so that the reference library, the specification\'s HMAC and Python all verify it', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const event = toChangeEvent(ledgerRow(), { target: 'ivr/main-menu' });
    const body = eventPayload(event);
    const headers = standardWebhookHeaders([secret], event.id, body);
    expect(headers['webhook-id']).toBe(event.id);
    expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(verifiesPerSpecification(secret, headers, body)).toBe(true);
    expect(verifiesInPython(secret, headers, body)).toBe(true);
  });

  it('fails verification when a byte of the body, the id or the timestamp changed, or the secret is another', () => {
    const secret = `whsec_${Buffer.alloc(24, 3).toString('base64')}`;
    const body = eventPayload(toChangeEvent(ledgerRow()));
    const headers = standardWebhookHeaders([secret], 'evt_abc', body);
    const tampered = body.replace('"bob"', '"eve"');
    expect(verifiesPerSpecification(secret, headers, tampered)).toBe(false);
    expect(verifiesInPython(secret, headers, tampered)).toBe(false);
    expect(() => new Webhook(secret).verify(tampered, { ...headers })).toThrow(WebhookVerificationError);
    expect(verifiesPerSpecification(secret, { ...headers, 'webhook-id': 'evt_abd' }, body)).toBe(false);
    expect(verifiesPerSpecification(secret, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) + 1) }, body)).toBe(false);
    expect(verifiesPerSpecification(`whsec_${Buffer.alloc(24, 4).toString('base64')}`, headers, body)).toBe(false);
  });

  it('signs with every active secret during a rotation: a receiver with either one verifies, with a third none', () => {
    const [fresh, old, other] = [1, 2, 3].map((fill) => `whsec_${Buffer.alloc(32, fill).toString('base64')}`);
    const body = '{"type":"change.audited"}';
    const headers = standardWebhookHeaders([fresh, old], 'evt_rotation', body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [fresh, old]) {
      expect(new Webhook(secret).verify(body, { ...headers })).toEqual({ type: 'change.audited' });
      expect(verifiesPerSpecification(secret, headers, body)).toBe(true);
      expect(verifiesInPython(secret, headers, body)).toBe(true);
    }
    expect(verifiesPerSpecification(other, headers, body)).toBe(false);
  });

  it('refuses an id with a "." (it would make "<id>.<timestamp>.<body>" ambiguous) and weak or malformed secrets', () => {
    expect(() => signatureHeader([VECTOR.secret], 'evt.1', new Date(), '{}')).toThrow(/must not contain/);
    expect(webhookSecretProblem(VECTOR.secret)).toBeUndefined();
    expect(webhookSecretProblem(`whsec_${Buffer.alloc(16).toString('base64')}`)).toMatch(/16 bytes/);
    expect(webhookSecretProblem('whsec_not base64!')).toMatch(/base64/);
    const configured = (secrets: string) =>
      loadConfig({ TOLLGATE_EVENT_ENDPOINTS: '[{"name":"feed","url":"https://hooks.example/t"}]', TOLLGATE_EVENT_SECRETS: secrets });
    expect(configured(JSON.stringify({ feed: VECTOR.secret })).events.webhooks).toEqual([
      { name: 'feed', url: 'https://hooks.example/t', from: 'now', secrets: [VECTOR.secret] },
    ]);
    expect(() => configured(JSON.stringify({ feed: 'whsec_c2hvcnQ=' }))).toThrow(ConfigError);
    expect(() => configured('{}')).toThrow(/no signing secret for the endpoint "feed"/);
    // The secret is never echoed in the message.
    try {
      configured(JSON.stringify({ feed: 'whsec_c2hvcnQ=' }));
    } catch (error) {
      expect((error as Error).message).not.toContain('c2hvcnQ');
    }
  });
});

describe('the outbound event', () => {
  it('is the ledger row as { type, timestamp, data }, with the change, its target and the row it came from', () => {
    const row = ledgerRow();
    const event = toChangeEvent(row, { target: 'ivr/main-menu' });
    expect(event.id).toBe(`evt_${row.hash.slice(0, 32)}`);
    expect(eventId(row)).toBe(event.id);
    expect(JSON.parse(eventPayload(event))).toEqual({
      type: 'change.approved',
      timestamp: row.recordedAt,
      data: { ...row.data, changeId: 'chg-1', target: 'ivr/main-menu', ledger: { seq: 42, key: row.key, subject: 'change:chg-1', hash: row.hash } },
    });
    // An audit names its own target and, when it matched a change, the change.
    const audit = toChangeEvent(ledgerRow({ kind: 'audit.approved', subject: 'audit:ivr:main:7', data: { target: 'ivr/main', version: 7, changeId: 'chg-9', source: 'webhook' } }));
    expect(audit.data).toMatchObject({ changeId: 'chg-9', target: 'ivr/main' });
  });

  it('is filtered by type and target patterns, where * is any run of characters', () => {
    const event = toChangeEvent(ledgerRow(), { target: 'architect.ivr/1234' });
    expect(matchesPattern('change.*', 'change.approved')).toBe(true);
    expect(matchesPattern('change.*', 'audit.drift')).toBe(false);
    expect(matchesPattern('architect.*', 'architect.ivr/1234')).toBe(true);
    expect(matchesPattern('architect.ivr/12', 'architect.ivr/1234')).toBe(false);
    expect(matchesPattern('a.b', 'axb')).toBe(false);
    expect(eventWanted({}, event)).toBe(true);
    expect(eventWanted({ types: ['audit.*'] }, event)).toBe(false);
    expect(eventWanted({ types: ['change.approved'], targets: ['architect.*'] }, event)).toBe(true);
    expect(eventWanted({ targets: ['routing.*'] }, event)).toBe(false);
    expect(eventWanted({ targets: ['*'] }, toChangeEvent(ledgerRow()))).toBe(false); // no target known
  });

  it('is retried after the endpoint\'s Retry-After, else with jittered exponential backoff up to the maximum', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('999999', now)).toBe(3_600_000);
    expect(retryDelayMs(3, 300_000, 7000)).toBe(7000);
    expect(retryDelayMs(1, 300_000, undefined, 0.5)).toBe(1000);
    expect(retryDelayMs(4, 300_000, undefined, 0.5)).toBe(8000);
    expect(retryDelayMs(30, 300_000, undefined, 0.5)).toBe(300_000);
    expect(retryDelayMs(4, 300_000, undefined, 0)).toBe(6400);
    expect(retryDelayMs(4, 300_000, undefined, 1)).toBe(9600);
  });
});
