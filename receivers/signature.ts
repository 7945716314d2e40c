/**
 * Webhook signature verification, in the fixed order of standard-webhooks:
 * headers present → timestamp inside the window (both sides) → HMAC-SHA256 over the raw bytes with each active
 * secret → constant-time compare. Only a request that passes all four may be parsed.
 *
 * Seed traps this module exists for:
 * - lifecycle "Validating the signature after beginning payload parsing": verification takes the raw bytes and
 *   refuses a parsed object with a TypeError (the way stripe-node does), so it cannot be called after parsing;
 * - config-audit "Ignoring Replay Attacks": the timestamp header is checked against a window, and a future-dated
 *   event is rejected like a stale one;
 * - the lifecycle seed's sample verifier calls `crypto.timingSafeEqual` on buffers of different lengths, which
 *   throws: here a wrong length, non-hex or non-base64 input is simply "no match".
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SignatureProfile } from '../platform/config';

export type { SignatureProfile };

export type HeaderBag = Record<string, string | string[] | undefined>;

/** Why a webhook was refused; each code is a reason label in the metrics and the `error` of the 401 body. */
export type RejectionReason =
  | 'missing_signature'
  | 'missing_timestamp'
  | 'invalid_timestamp'
  | 'stale_or_future_timestamp'
  | 'invalid_signature'
  | 'no_secret_configured';

export class WebhookVerificationError extends Error {
  constructor(
    readonly reason: RejectionReason,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export class MissingSignatureError extends WebhookVerificationError {
  constructor(header: string) {
    super('missing_signature', `missing signature header ${header}`);
    this.name = 'MissingSignatureError';
  }
}

export class MissingTimestampError extends WebhookVerificationError {
  constructor(header: string) {
    super('missing_timestamp', `missing timestamp header ${header}`);
    this.name = 'MissingTimestampError';
  }
}

export class InvalidTimestampError extends WebhookVerificationError {
  constructor(header: string) {
    super('invalid_timestamp', `timestamp header ${header} is not unix seconds, unix milliseconds or ISO 8601`);
    this.name = 'InvalidTimestampError';
  }
}

export class TimestampOutsideToleranceError extends WebhookVerificationError {
  constructor(
    readonly direction: 'stale' | 'future',
    readonly skewSeconds: number,
    toleranceSeconds: number,
  ) {
    super('stale_or_future_timestamp', `timestamp is ${Math.round(skewSeconds)} s in the ${direction === 'stale' ? 'past' : 'future'} (tolerance ±${toleranceSeconds} s)`);
    this.name = 'TimestampOutsideToleranceError';
  }
}

export class SignatureMismatchError extends WebhookVerificationError {
  /** `problem`: why the header cannot be a signature at all (its length or encoding), said plainly. */
  constructor(readonly problem?: string) {
    super('invalid_signature', problem ?? 'signature does not match any active secret');
    this.name = 'SignatureMismatchError';
  }
}

export class NoActiveSecretError extends WebhookVerificationError {
  constructor() {
    super('no_secret_configured', 'no webhook secret is configured for this receiver');
    this.name = 'NoActiveSecretError';
  }
}

export interface VerifyWebhookInput {
  /** The exact bytes received. A parsed object is refused with a TypeError. */
  rawBody: Buffer | string;
  headers: HeaderBag;
  /** Every active secret, in rotation order: during a rotation the old and the new one are both accepted. */
  secrets: readonly string[];
  profile: SignatureProfile;
  /** Milliseconds since the epoch; defaults to Date.now(). */
  now?: number;
}

export interface VerifiedSignature {
  ok: true;
  /** Which of `secrets` matched: operators watch it to know when an old secret can be retired. */
  secretIndex: number;
}

/** Header lookup that ignores case, as HTTP does (Node lower-cases incoming names; a test's bag may not). */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first.trim() !== '') return first.trim();
  }
  return undefined;
}

/**
 * Reads a timestamp header: unix seconds (the config-audit seed parses it with `float()`, so a fraction is
 * allowed), unix milliseconds (13 digits) or ISO 8601 with a zone (the lifecycle seed's example request).
 * Returns milliseconds since the epoch, or undefined when the value is none of these.
 */
export function parseWebhookTimestamp(value: string): number | undefined {
  const text = value.trim();
  if (/^\d{13}$/.test(text)) return Number(text);
  if (/^\d{1,11}(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/**
 * The header checks, which need no body: run first so that a request without a signature, or outside the
 * window, is refused before a single body byte is read. Throws the named errors above.
 */
export function checkWebhookHeaders(input: { headers: HeaderBag; profile: SignatureProfile; now?: number }): { signature: string; timestampMs?: number } {
  const { headers, profile } = input;
  const signature = headerValue(headers, profile.header);
  if (signature === undefined) throw new MissingSignatureError(profile.header);
  if (profile.timestampHeader === undefined) return { signature };

  const raw = headerValue(headers, profile.timestampHeader);
  if (raw === undefined) throw new MissingTimestampError(profile.timestampHeader);
  const timestampMs = parseWebhookTimestamp(raw);
  if (timestampMs === undefined) throw new InvalidTimestampError(profile.timestampHeader);
  const now = input.now ?? Date.now();
  const skewSeconds = (now - timestampMs) / 1000;
  if (Math.abs(skewSeconds) > profile.toleranceSeconds) {
    throw new TimestampOutsideToleranceError(skewSeconds > 0 ? 'stale' : 'future', Math.abs(skewSeconds), profile.toleranceSeconds);
  }
  return { signature, timestampMs };
}

/** Verifies a webhook; returns which secret matched or throws a WebhookVerificationError (or a TypeError). */
export function verifyWebhookSignature(input: VerifyWebhookInput): VerifiedSignature {
  const rawBody = requireRawBody(input.rawBody);
  const { signature } = checkWebhookHeaders(input);
  if (input.secrets.length === 0) throw new NoActiveSecretError();

  const received = decodeSignature(signature, input.profile);
  // A header that cannot be an HMAC-SHA256 at all (wrong length, not hex or base64) says so; its format tells an
  // attacker nothing about the secrets, and the comparison below is never reached with it.
  if (typeof received === 'string') throw new SignatureMismatchError(`${input.profile.header}: ${received}`);
  let matched = -1;
  // Every secret is tried, even after a match, so the time taken does not say which one matched.
  input.secrets.forEach((secret, index) => {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    if (received.length === expected.length && timingSafeEqual(received, expected) && matched < 0) {
      matched = index;
    }
  });
  if (matched < 0) throw new SignatureMismatchError();
  return { ok: true, secretIndex: matched };
}

/** The header value a sender puts on `rawBody`: `prefix + encoding(HMAC-SHA256(secret, rawBody))`. */
export function signPayload(rawBody: Buffer | string, secret: string, profile: Pick<SignatureProfile, 'encoding' | 'prefix'>): string {
  const body = requireRawBody(rawBody);
  return `${profile.prefix}${createHmac('sha256', secret).update(body).digest(profile.encoding)}`;
}

/**
 * Every header a sender sets: the signature and, when the profile has one, the timestamp (unix seconds by
 * default, as the config-audit seed's verifier parses it). For tests and for senders other than Genesys Cloud.
 */
export function signedWebhookHeaders(input: {
  rawBody: Buffer | string;
  secret: string;
  profile: SignatureProfile;
  timestamp?: number | string;
}): Record<string, string> {
  const headers: Record<string, string> = { [input.profile.header]: signPayload(input.rawBody, input.secret, input.profile) };
  if (input.profile.timestampHeader !== undefined) {
    headers[input.profile.timestampHeader] = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  }
  return headers;
}

/** Bytes of an HMAC-SHA256. */
const HMAC_BYTES = 32;

/**
 * The received signature as bytes, or why it cannot be one (missing prefix, not hex or base64, the wrong length for
 * an HMAC-SHA256). Nothing here throws on hostile input.
 */
function decodeSignature(value: string, profile: SignatureProfile): Buffer | string {
  if (!value.startsWith(profile.prefix)) return `the signature does not start with "${profile.prefix}"`;
  const encoded = value.slice(profile.prefix.length).trim();
  if (profile.encoding === 'hex') {
    if (!/^[0-9a-f]*$/i.test(encoded)) return 'the signature is not hex';
    if (encoded.length !== HMAC_BYTES * 2) return `the signature is ${encoded.length} hex characters; an HMAC-SHA256 is ${HMAC_BYTES * 2}`;
    return Buffer.from(encoded, 'hex');
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return 'the signature is not base64';
  const bytes = encoded.length % 4 === 0 ? Buffer.from(encoded, 'base64') : undefined;
  if (!bytes || bytes.length !== HMAC_BYTES) return `the signature is ${encoded.length} base64 characters; an HMAC-SHA256 is 44 (${HMAC_BYTES} bytes)`;
  return bytes;
}

function requireRawBody(rawBody: unknown): Buffer {
  if (Buffer.isBuffer(rawBody)) return rawBody;
  if (typeof rawBody === 'string') return Buffer.from(rawBody, 'utf8');
  if (rawBody instanceof Uint8Array) return Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  throw new TypeError(
    'Webhook payload must be the raw request body (a Buffer or string) exactly as received. ' +
      `Got ${rawBody === null ? 'null' : typeof rawBody}: a parsed JSON body cannot be verified, because re-serialising ` +
      'it does not reproduce the signed bytes. Verify before parsing.',
  );
}
