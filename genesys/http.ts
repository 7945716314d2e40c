/**
 * One HTTP exchange with Genesys Cloud over a keep-alive undici Agent, with the waits that belong inside the
 * client: a short 429 (Retry-After ≤ 10 s, at most 3 times) and, for safe requests only, up to 2 quick retries
 * of a network error or 5xx. Everything longer is the activity retry policy's job (see toActivityFailure).
 *
 * A write is never re-sent here after a network error or a 5xx: it may have been applied, and only a read can
 * say (seed trap "Silent Failures in CI/CD"; SPEC: "resolved by reading, never by blind re-sending"). A 429 is
 * re-sent, because a rate-limited request was not processed.
 */
import { Agent, request } from 'undici';
import type { Logger } from '../platform/logger';
import { GenesysNetworkError, GenesysRateLimitedError } from './errors';

/** Retry-After longer than this is handed to the activity retry (nextRetryDelay) instead of blocking a slot. */
export const MAX_IN_CLIENT_RETRY_AFTER_MS = 10_000;
export const MAX_RATE_LIMIT_WAITS = 3;
export const MAX_SAFE_RETRIES = 2;
/** Used when a 429 carries no usable Retry-After. */
export const DEFAULT_RETRY_AFTER_MS = 1_000;

export interface Exchange {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  url: string;
  /** For errors and logs: the path, never the query's secrets (there are none) nor headers. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Safe to repeat after a network error or 5xx: GETs, and the token request. */
  safe: boolean;
  /** Waits for a permit of the shared request budget before each attempt (every API request; not the token's). */
  permit?: () => Promise<void>;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface TransportOptions {
  timeoutMs: number;
  logger: Logger;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Parses Retry-After: delta-seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export class GenesysTransport {
  private readonly agent: Agent;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: TransportOptions) {
    this.agent = new Agent({
      keepAliveTimeout: 4_000,
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    this.sleep = options.sleep ?? realSleep;
  }

  async send(exchange: Exchange): Promise<RawResponse> {
    let rateLimitWaits = 0;
    let safeRetries = 0;
    for (;;) {
      let response: RawResponse;
      // Every attempt is a request Genesys Cloud counts, a re-sent one too.
      await exchange.permit?.();
      try {
        response = await this.once(exchange);
      } catch (error) {
        if (error instanceof GenesysNetworkError && exchange.safe && safeRetries < MAX_SAFE_RETRIES) {
          await this.sleep(backoff(safeRetries++));
          continue;
        }
        throw error;
      }
      if (response.status === 429) {
        const retryAfterMs = parseRetryAfter(response.headers['retry-after'], this.options.now()) ?? DEFAULT_RETRY_AFTER_MS;
        if (retryAfterMs <= MAX_IN_CLIENT_RETRY_AFTER_MS && rateLimitWaits < MAX_RATE_LIMIT_WAITS) {
          rateLimitWaits += 1;
          this.options.logger.info({ method: exchange.method, path: exchange.path, retryAfterMs, attempt: rateLimitWaits }, 'genesys rate-limited; waiting');
          await this.sleep(retryAfterMs);
          continue;
        }
        throw new GenesysRateLimitedError(`${exchange.method} ${exchange.path}: rate-limited (429), retry after ${retryAfterMs} ms`, retryAfterMs, {
          method: exchange.method,
          path: exchange.path,
        });
      }
      if (response.status >= 500 && exchange.safe && safeRetries < MAX_SAFE_RETRIES) {
        await this.sleep(backoff(safeRetries++));
        continue;
      }
      return response;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async once(exchange: Exchange): Promise<RawResponse> {
    const started = this.options.now();
    try {
      const response = await request(exchange.url, {
        method: exchange.method,
        headers: exchange.headers,
        body: exchange.body,
        dispatcher: this.agent,
        // An overall deadline too: headers/body timeouts alone let a trickling server hold a call forever.
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const text = await response.body.text();
      this.options.logger.debug(
        { method: exchange.method, path: exchange.path, status: response.statusCode, ms: this.options.now() - started },
        'genesys call',
      );
      return { status: response.statusCode, headers: response.headers, text };
    } catch (error) {
      const reason = describeNetworkError(error);
      this.options.logger.warn({ method: exchange.method, path: exchange.path, reason }, 'genesys call failed without an answer');
      throw new GenesysNetworkError(`${exchange.method} ${exchange.path}: no answer (${reason})`, {
        method: exchange.method,
        path: exchange.path,
        outcomeUnknown: !exchange.safe,
        cause: error,
      });
    }
  }
}

/** 100–200 ms, then 200–400 ms: enough to ride out a dropped keep-alive socket or a brief blip. */
function backoff(retry: number): number {
  const base = 100 * 2 ** retry;
  return base + Math.floor(Math.random() * base);
}

function describeNetworkError(error: unknown): string {
  if (error && typeof error === 'object') {
    const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
    if (typeof message === 'string') return message;
  }
  return String(error);
}
