/**
 * The gate in front of every webhook route: nothing reaches a route handler unless its signature verified.
 *
 * Seed trap (lifecycle): "Validating the signature after beginning payload parsing or resource allocation.
 * Attackers can craft spoofed uninstalled events…". So this middleware reads the raw stream itself (no body-parser,
 * no JSON), refuses a request without a signature or outside the timestamp window before reading a single body
 * byte, stops reading the moment the body passes the limit, and computes the HMAC over the exact bytes received.
 * Only then does the route get `res.locals.rawBody` to parse and validate.
 *
 * Refusals go through the app's one error responder (receivers/http-error.ts):
 * 401 `{ error: <reason> }` with reason `missing_signature` | `missing_timestamp` | `invalid_timestamp` |
 * `stale_or_future_timestamp` | `invalid_signature`; 413 `{ error: 'payload_too_large' }`;
 * 400 `{ error: 'body_incomplete' }` when the sender hangs up mid-body; 503 `{ error: 'no_secret_configured' }`
 * when the receiver has no secret (it refuses everything and Genesys Cloud keeps retrying until it has one).
 */
import type { IncomingMessage } from 'node:http';
import type { RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { Logger } from '../platform/logger';
import { HttpError } from './http-error';
import type { ReceiverMetrics } from './metrics';
import { WebhookVerificationError, checkWebhookHeaders, verifyWebhookSignature, type SignatureProfile } from './signature';

export interface VerifiedWebhookOptions {
  /** The route's name: the `route` label of its metrics (`config-audit`, `lifecycle`). */
  name: string;
  /** Active secrets, in rotation order. */
  secrets: readonly string[];
  profile: SignatureProfile;
  bodyLimitBytes: number;
  metrics: ReceiverMetrics;
  logger?: Logger;
  /** Clock for the timestamp window; tests may pass their own. */
  now?: () => number;
}

/** What a verified route finds in `res.locals`. */
export interface VerifiedWebhookLocals {
  rawBody: Buffer;
  secretIndex: number;
  webhookRoute: string;
}

/** The verified raw body of this request (throws if verifiedWebhook did not run: a wiring mistake). */
export function verifiedRawBody(res: Response): Buffer {
  const rawBody = (res.locals as Partial<VerifiedWebhookLocals>).rawBody;
  if (!Buffer.isBuffer(rawBody)) throw new Error('no verified body: mount verifiedWebhook(...) before this handler');
  return rawBody;
}

/**
 * The verified body, parsed as JSON and validated by `schema`: 400 `invalid_json` when it is not JSON, 400
 * `invalid_payload` with the issues when it is not `what`. Parsing happens only here, after verification.
 */
export function parseVerifiedJson<S extends z.ZodType>(res: Response, schema: S, what: string): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(verifiedRawBody(res).toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'the body is not JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new HttpError(400, 'invalid_payload', `the body is not ${what}`, {}, {
      issues: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    });
  }
  return parsed.data;
}

export function verifiedWebhook(options: VerifiedWebhookOptions): RequestHandler {
  const { name, secrets, profile, bodyLimitBytes, metrics, logger } = options;
  const now = options.now ?? Date.now;
  if (secrets.length === 0) {
    logger?.error({ route: name }, 'no webhook secret configured: this receiver refuses every request until one is set');
  }

  const refuse = (reason: string, status: number, message: string, headers: Record<string, string> = {}): HttpError => {
    metrics.rejected.inc({ route: name, reason });
    return new HttpError(status, reason, message, headers);
  };

  return async (req, res, next) => {
    metrics.received.inc({ route: name });
    res.locals.webhookRoute = name;
    try {
      if (req.readableEnded || (req as { body?: unknown }).body !== undefined) {
        // A body parser ran first: the bytes we would verify are gone. A wiring bug, never a client error.
        throw new Error(`verifiedWebhook(${name}) must run before any body parser`);
      }
      if (secrets.length === 0) throw refuse('no_secret_configured', 503, 'receiver has no webhook secret', { 'Retry-After': '60' });

      // 1–2. Headers present and timestamp inside the window: no body byte read yet.
      try {
        checkWebhookHeaders({ headers: req.headers, profile, now: now() });
      } catch (error) {
        if (error instanceof WebhookVerificationError) throw refuse(error.reason, 401, error.message);
        throw error;
      }

      // The size limit, before and while reading.
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > bodyLimitBytes) {
        throw refuse('payload_too_large', 413, `body of ${declared} bytes exceeds ${bodyLimitBytes}`, { Connection: 'close' });
      }
      const rawBody = await readRawBody(req, bodyLimitBytes, () =>
        refuse('payload_too_large', 413, `body exceeds ${bodyLimitBytes} bytes`, { Connection: 'close' }),
      ).catch((error: unknown) => {
        if (error instanceof HttpError) throw error;
        throw refuse('body_incomplete', 400, 'the request body ended early');
      });

      // 3–4. HMAC over the raw bytes with each active secret, constant-time compare.
      let secretIndex: number;
      try {
        ({ secretIndex } = verifyWebhookSignature({ rawBody, headers: req.headers, secrets, profile, now: now() }));
      } catch (error) {
        if (error instanceof WebhookVerificationError) throw refuse(error.reason, 401, error.message);
        throw error;
      }
      metrics.signatureSecret.inc({ route: name, secret_index: String(secretIndex) });
      res.locals.rawBody = rawBody;
      res.locals.secretIndex = secretIndex;
    } catch (error) {
      if (error instanceof HttpError && error.status !== 503) {
        logger?.warn({ route: name, reason: error.code, remoteAddress: req.socket.remoteAddress }, 'webhook refused');
      }
      next(error);
      return;
    }
    next();
  };
}

/**
 * Collects the body up to `limit` bytes. Past the limit it stops listening at once (no more bytes are kept) and
 * rejects with `tooLarge()`; the 413 carries `Connection: close`, so Node drops the rest with the socket.
 */
function readRawBody(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('request closed before its body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
