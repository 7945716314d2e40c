/**
 * Webhook signature verification: a public vector, hostile inputs that must never throw, the timestamp window on
 * both sides, secret rotation, and the refusal to verify a parsed body.
 */
import { createHmac } from 'node:crypto';
import type { SignatureProfile } from '../platform/config';
import {
  InvalidTimestampError,
  MissingSignatureError,
  MissingTimestampError,
  NoActiveSecretError,
  SignatureMismatchError,
  TimestampOutsideToleranceError,
  parseWebhookTimestamp,
  signPayload,
  signedWebhookHeaders,
  verifyWebhookSignature,
} from '../receivers/signature';

/** GitHub's documented example ("Validating webhook deliveries"). */
const GITHUB = {
  secret: "It's a Secret to Everybody",
  body: 'Hello, World!',
  hex: '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
};
const GITHUB_PROFILE: SignatureProfile = { header: 'X-Hub-Signature-256', encoding: 'hex', prefix: 'sha256=', toleranceSeconds: 300 };

/** The seeds' scheme: hex HMAC in X-Genesys-Signature, X-Genesys-Event-Timestamp, ±90 s (lifecycle). */
const GENESYS_PROFILE: SignatureProfile = {
  header: 'X-Genesys-Signature',
  encoding: 'hex',
  prefix: '',
  timestampHeader: 'X-Genesys-Event-Timestamp',
  toleranceSeconds: 90,
};
const BASE64_PROFILE: SignatureProfile = { ...GENESYS_PROFILE, header: 'X-Signature', encoding: 'base64', prefix: 'v1=' };

const SECRET = 'lifecycle-secret';
const NOW = Date.parse('2024-01-15T14:32:10Z');
const body = Buffer.from(JSON.stringify({ event: 'uninstalled', orgId: 'org-1', integrationId: 'int-1' }));
const hmacHex = (secret: string, bytes: Buffer | string) => createHmac('sha256', secret).update(bytes).digest('hex');

const genesysHeaders = (overrides: Record<string, string | undefined> = {}) => ({
  'x-genesys-signature': hmacHex(SECRET, body),
  'x-genesys-event-timestamp': String(Math.floor(NOW / 1000)),
  ...overrides,
});
const verify = (headers: Record<string, string | undefined>, options: { secrets?: string[]; profile?: SignatureProfile; rawBody?: Buffer | string } = {}) =>
  verifyWebhookSignature({
    rawBody: options.rawBody ?? body,
    headers,
    secrets: options.secrets ?? [SECRET],
    profile: options.profile ?? GENESYS_PROFILE,
    now: NOW,
  });

describe('webhook signature verification', () => {
  describe("GitHub's public test vector (X-Hub-Signature-256: sha256=…, Genesys Open Messaging's scheme)", () => {
    it('signs the vector exactly as documented', () => {
      expect(signPayload(GITHUB.body, GITHUB.secret, GITHUB_PROFILE)).toBe(`sha256=${GITHUB.hex}`);
    });

    it('accepts the documented signature with a profile that has no timestamp header', () => {
      const result = verifyWebhookSignature({
        rawBody: Buffer.from(GITHUB.body),
        headers: { 'X-Hub-Signature-256': `sha256=${GITHUB.hex}` },
        secrets: [GITHUB.secret],
        profile: GITHUB_PROFILE,
      });
      expect(result).toEqual({ ok: true, secretIndex: 0 });
    });

    it('accepts upper-case hex and rejects the signature without its prefix', () => {
      const headers = (value: string) => ({ 'x-hub-signature-256': value });
      expect(verify(headers(`sha256=${GITHUB.hex.toUpperCase()}`), { profile: GITHUB_PROFILE, secrets: [GITHUB.secret], rawBody: GITHUB.body })).toMatchObject({ ok: true });
      expect(() => verify(headers(GITHUB.hex), { profile: GITHUB_PROFILE, secrets: [GITHUB.secret], rawBody: GITHUB.body })).toThrow(SignatureMismatchError);
    });

    it('rejects the vector signature over a body that differs by one byte', () => {
      expect(() =>
        verify({ 'x-hub-signature-256': `sha256=${GITHUB.hex}` }, { profile: GITHUB_PROFILE, secrets: [GITHUB.secret], rawBody: 'Hello, World?' }),
      ).toThrow(SignatureMismatchError);
    });
  });

  describe('constant-time comparison that never throws on hostile input', () => {
    it('accepts the right signature', () => {
      expect(verify(genesysHeaders())).toEqual({ ok: true, secretIndex: 0 });
    });

    it.each([
      ['too short', hmacHex(SECRET, body).slice(0, 32)],
      ['too long', `${hmacHex(SECRET, body)}00`],
      ['odd length', hmacHex(SECRET, body).slice(1)],
      ['non-hex characters of the right length', 'z'.repeat(64)],
      ['a base64 value where hex is expected', createHmac('sha256', SECRET).update(body).digest('base64')],
      ['empty after trimming', ' '],
      ['multi-byte characters', 'é'.repeat(32)],
    ])('rejects a signature that is %s with a verification error, never a crash', (_case, signature) => {
      const attempt = () => verify(genesysHeaders({ 'x-genesys-signature': signature }));
      let thrown: unknown;
      try {
        attempt();
      } catch (error) {
        thrown = error;
      }
      // An empty header counts as missing; every other case is a plain mismatch.
      expect(thrown instanceof SignatureMismatchError || thrown instanceof MissingSignatureError).toBe(true);
    });

    it('says what is wrong with a signature of the wrong length or encoding (still a refusal, never a crash)', () => {
      const message = (signature: string) => {
        try {
          verify(genesysHeaders({ 'x-genesys-signature': signature }));
        } catch (error) {
          return error instanceof SignatureMismatchError ? error.message : `not a mismatch: ${String(error)}`;
        }
        return 'accepted';
      };
      expect(message(hmacHex(SECRET, body).slice(0, 32))).toBe('X-Genesys-Signature: the signature is 32 hex characters; an HMAC-SHA256 is 64');
      expect(message(`${hmacHex(SECRET, body)}00`)).toBe('X-Genesys-Signature: the signature is 66 hex characters; an HMAC-SHA256 is 64');
      expect(message('z'.repeat(64))).toBe('X-Genesys-Signature: the signature is not hex');
      expect(message(hmacHex('attacker-secret', body))).toBe('signature does not match any active secret');
    });

    it('rejects a signature made with another secret', () => {
      expect(() => verify(genesysHeaders({ 'x-genesys-signature': hmacHex('attacker-secret', body) }))).toThrow(SignatureMismatchError);
    });

    it('verifies a base64 profile with a prefix, and refuses non-base64 input as a mismatch', () => {
      const headers = signedWebhookHeaders({ rawBody: body, secret: SECRET, profile: BASE64_PROFILE, timestamp: Math.floor(NOW / 1000) });
      expect(headers['X-Signature']).toBe(`v1=${createHmac('sha256', SECRET).update(body).digest('base64')}`);
      expect(verify(headers, { profile: BASE64_PROFILE })).toEqual({ ok: true, secretIndex: 0 });

      for (const bad of ['v1=!!!notbase64!!!', `v1=${hmacHex(SECRET, body)}`, 'v1=AAAA', 'v1=====']) {
        expect(() => verify({ ...headers, 'X-Signature': bad }, { profile: BASE64_PROFILE })).toThrow(SignatureMismatchError);
      }
    });
  });

  describe('timestamp window (config-audit trap "Ignoring Replay Attacks"; lifecycle ±90 s)', () => {
    it('rejects a missing signature before anything else', () => {
      expect(() => verify(genesysHeaders({ 'x-genesys-signature': undefined }))).toThrow(MissingSignatureError);
    });

    it('rejects a missing timestamp', () => {
      expect(() => verify(genesysHeaders({ 'x-genesys-event-timestamp': undefined }))).toThrow(MissingTimestampError);
    });

    it.each(['yesterday', '1705329130abc', '17053291301234', '2024-01-15', '2024-01-15T14:32:10', ''])(
      'rejects a malformed timestamp %j',
      (value) => {
        expect(() => verify(genesysHeaders({ 'x-genesys-event-timestamp': value }))).toThrow(
          value === '' ? MissingTimestampError : InvalidTimestampError,
        );
      },
    );

    it('rejects a stale timestamp (a replay)', () => {
      const stale = String(Math.floor(NOW / 1000) - 91);
      const error = (() => {
        try {
          verify(genesysHeaders({ 'x-genesys-event-timestamp': stale }));
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(TimestampOutsideToleranceError);
      expect(error).toMatchObject({ direction: 'stale', reason: 'stale_or_future_timestamp' });
    });

    it('rejects a future-dated timestamp as suspect as a stale one', () => {
      const future = new Date(NOW + 91_000).toISOString();
      expect(() => verify(genesysHeaders({ 'x-genesys-event-timestamp': future }))).toThrow(TimestampOutsideToleranceError);
      try {
        verify(genesysHeaders({ 'x-genesys-event-timestamp': future }));
      } catch (error) {
        expect(error).toMatchObject({ direction: 'future' });
      }
    });

    it('accepts unix seconds, unix milliseconds, fractional seconds and ISO 8601 inside the window', () => {
      for (const value of [
        String(Math.floor(NOW / 1000) - 89),
        String(NOW + 89_000),
        `${Math.floor(NOW / 1000)}.250`,
        '2024-01-15T14:32:10Z',
        '2024-01-15T14:31:00.123Z',
        '2024-01-15T15:32:10+01:00',
      ]) {
        expect(verify(genesysHeaders({ 'x-genesys-event-timestamp': value }))).toEqual({ ok: true, secretIndex: 0 });
      }
    });

    it('parses each timestamp form to the same instant', () => {
      expect(parseWebhookTimestamp('1705329130')).toBe(NOW);
      expect(parseWebhookTimestamp('1705329130000')).toBe(NOW);
      expect(parseWebhookTimestamp('2024-01-15T14:32:10Z')).toBe(NOW);
      expect(parseWebhookTimestamp('2024-01-15T16:32:10+02:00')).toBe(NOW);
      expect(parseWebhookTimestamp('not a time')).toBeUndefined();
    });
  });

  describe('secret rotation', () => {
    it('accepts either of two active secrets and reports which one matched (index 1 for the second)', () => {
      const signedWithNew = genesysHeaders({ 'x-genesys-signature': hmacHex('new-secret', body) });
      expect(verify(signedWithNew, { secrets: [SECRET, 'new-secret'] })).toEqual({ ok: true, secretIndex: 1 });
      expect(verify(genesysHeaders(), { secrets: [SECRET, 'new-secret'] })).toEqual({ ok: true, secretIndex: 0 });
    });

    it('refuses everything when no secret is configured', () => {
      expect(() => verify(genesysHeaders(), { secrets: [] })).toThrow(NoActiveSecretError);
    });
  });

  describe('raw bytes only (lifecycle trap: validating after parsing)', () => {
    it('throws a TypeError that says why when handed a parsed object instead of the raw body', () => {
      const parsed = JSON.parse(body.toString()) as unknown;
      expect(() =>
        verifyWebhookSignature({ rawBody: parsed as Buffer, headers: genesysHeaders(), secrets: [SECRET], profile: GENESYS_PROFILE, now: NOW }),
      ).toThrow(TypeError);
      expect(() =>
        verifyWebhookSignature({ rawBody: parsed as Buffer, headers: genesysHeaders(), secrets: [SECRET], profile: GENESYS_PROFILE, now: NOW }),
      ).toThrow(/raw request body/);
    });

    it('shows why re-serialising a parsed body cannot be verified: the signed bytes differ', () => {
      const pretty = Buffer.from('{ "event": "uninstalled",\n  "orgId": "org-1", "integrationId": "int-1" }');
      const headers = genesysHeaders({ 'x-genesys-signature': hmacHex(SECRET, pretty) });
      expect(verify(headers, { rawBody: pretty })).toMatchObject({ ok: true });
      const reserialised = Buffer.from(JSON.stringify(JSON.parse(pretty.toString())));
      expect(() => verify(headers, { rawBody: reserialised })).toThrow(SignatureMismatchError);
    });
  });
});
