/**
 * Tools for tests that drive the emulator from outside, over HTTP, as Tollgate would: `emulatorClient` (token,
 * API, admin and plain calls), `startWebhookReceiver` (keeps the raw bytes of each webhook the emulator sends, for
 * signature checks, and answers as scripted) and `waitFor` (a bounded poll, since deliveries are asynchronous).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EmulatorResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface EmulatorClient {
  /** A fresh token for the default sandbox client (or the given one). */
  token(clientId?: string, clientSecret?: string): Promise<string>;
  /** A Genesys-shaped API call with a Bearer token; without one, a cached token is used and renewed after a 401. */
  api<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<EmulatorResponse<T>>;
  /** An `/__emulator` admin call. */
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<EmulatorResponse<T>>;
  /** A call without a token (partner routes, token endpoint). */
  call<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<EmulatorResponse<T>>;
}

export function emulatorClient(baseUrl: string): EmulatorClient {
  let cachedToken: string | undefined;
  const call = async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const token = async (clientId = 'tollgate-sandbox', clientSecret = 'sandbox-secret') => {
    const response = await call<{ access_token: string }>('POST', '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
    });
    if (response.status !== 200) throw new Error(`token request failed with ${response.status}`);
    return response.body.access_token;
  };
  return {
    token,
    call,
    admin: (method, path, body) => call(method, `/__emulator${path}`, body),
    api: async <T>(method: string, path: string, body?: unknown, explicitToken?: string) => {
      if (explicitToken !== undefined) return call<T>(method, path, body, { Authorization: `Bearer ${explicitToken}` });
      const first = await call<T>(method, path, body, { Authorization: `Bearer ${(cachedToken ??= await token())}` });
      if (first.status !== 401) return first;
      // The cached token died with a reset or an expiry: fetch a new one once, as a real client would.
      cachedToken = await token();
      return call<T>(method, path, body, { Authorization: `Bearer ${cachedToken}` });
    },
  };
}

export interface CapturedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The exact bytes received, for signature checks. */
  rawBody: Buffer;
  body: unknown;
}

/** How the receiver answers one request: a status, optionally only after a delay (to outlast a timeout). */
export interface ScriptedAnswer {
  status: number;
  delayMs?: number;
}

export interface WebhookReceiver {
  url: string;
  received: CapturedRequest[];
  /** Queues answers for the next requests, in order; once they are used up the receiver answers 200. */
  answerNext(...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

/** A plain node:http server on 127.0.0.1 that records every request and answers as scripted. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: CapturedRequest[] = [];
  const script: ScriptedAnswer[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody, body: parseJson(rawBody) });
      const answer = script.shift() ?? { status: 200 };
      const respond = () => {
        if (!res.destroyed) res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end('{}');
      };
      if (!answer.delayMs) return respond();
      const timer = setTimeout(() => {
        timers.delete(timer);
        respond();
      }, answer.delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    answerNext: (...answers) => script.push(...answers),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls `probe` until it returns something truthy, and returns that; fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  { timeoutMs = 5_000, intervalMs = 20, what = 'the condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
