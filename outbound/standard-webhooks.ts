/**
 * Signing outbound events in the Standard Webhooks format (https://www.standardwebhooks.com): headers
 * `webhook-id`, `webhook-timestamp` (unix seconds of the attempt) and `webhook-signature`, a space-separated list of
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per active secret, so a secret can be rotated without
 * a moment in which the receiver rejects events. The signing is the `standardwebhooks` package's (the reference
 * implementation of the specification), tested against the specification's public vectors.
 */
import { Webhook } from 'standardwebhooks';

export interface StandardWebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Signers are built once per secret (decoding `whsec_…` each time would be waste). */
const signers = new Map<string, Webhook>();

function signer(secret: string): Webhook {
  let webhook = signers.get(secret);
  if (!webhook) {
    webhook = new Webhook(secret);
    signers.set(secret, webhook);
  }
  return webhook;
}

/** The `webhook-signature` value: one `v1,…` per secret, newest first. */
export function signatureHeader(secrets: readonly string[], id: string, at: Date, payload: string): string {
  if (secrets.length === 0) throw new Error('no signing secret');
  // The specification forbids `.` in the ID: it would make "<id>.<timestamp>.<body>" ambiguous.
  if (id.includes('.')) throw new Error('a webhook-id must not contain "."');
  return secrets.map((secret) => signer(secret).sign(id, at, payload)).join(' ');
}

export function standardWebhookHeaders(secrets: readonly string[], id: string, payload: string, at: Date = new Date()): StandardWebhookHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatureHeader(secrets, id, at, payload),
  };
}
