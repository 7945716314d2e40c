/**
 * HTTP to the partner-side systems (middleware, CRM, audit archive): one place that turns their answers into
 * what a provisioning activity does next. 2xx → the parsed body; 404 → `absent` (callers decide whether "already
 * gone" is success); 409 → `conflict`; 429 → retryable with the server's Retry-After; 5xx and network errors →
 * retryable; any other 4xx → a non-retryable `PartnerRequestRejected` (retrying a refused request changes nothing).
 */
import { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';
import { FailureType } from '../../workflows/failures';

export interface PartnerResponse {
  status: number;
  body: unknown;
}

export interface PartnerHttpOptions {
  timeoutMs?: number;
}

export class PartnerUnavailableError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'PartnerUnavailableError';
  }
}

/** Sends one request; returns 2xx, 404 and 409 answers (and 401 when `passUnauthorized`) to the caller. */
export async function partnerRequest(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  body: unknown,
  options: PartnerHttpOptions & { passUnauthorized?: boolean } = {},
): Promise<PartnerResponse> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (error) {
    throw new PartnerUnavailableError(`${method} ${redactUrl(url)} failed: ${(error as Error).message}`);
  }
  const text = await response.body.text();
  let parsed: unknown = undefined;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  const status = response.statusCode;
  if ((status >= 200 && status < 300) || status === 404 || status === 409 || (status === 401 && options.passUnauthorized)) {
    return { status, body: parsed };
  }
  if (status === 429) {
    const retryAfterSeconds = Number(response.headers['retry-after']);
    throw ApplicationFailure.create({
      message: `${method} ${redactUrl(url)} answered 429`,
      type: FailureType.PartnerRateLimited,
      nonRetryable: false,
      nextRetryDelay: Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : undefined,
    });
  }
  if (status >= 500) throw new PartnerUnavailableError(`${method} ${redactUrl(url)} answered ${status}`, status);
  throw ApplicationFailure.create({
    message: `${method} ${redactUrl(url)} answered ${status}: ${describe(parsed)}`,
    type: FailureType.PartnerRequestRejected,
    nonRetryable: true,
    details: [{ status }],
  });
}

function describe(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Partner URLs may carry credentials in their userinfo; never put them in a failure message. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '<url>';
  }
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
