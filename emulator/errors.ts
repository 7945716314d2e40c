/**
 * The emulator's HTTP errors and the one place where they become responses, in Genesys Cloud's shape
 * `{ message, code, status, contextId, details, errors }` (`bad.request` with zod `issues`, `not.found`, `conflict`,
 * …), so a client's error handling is tested against the shape the real API sends (the official SDK's `ErrorBody`).
 * The OAuth endpoints and the CRM 401 have their own shapes.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';

/** An error that becomes an HTTP response with a Genesys-shaped body `{ status, code, message, ...details }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function notFound(message: string): HttpError {
  return new HttpError(404, 'not.found', message);
}

export function badRequest(message: string, details: Record<string, unknown> = {}): HttpError {
  return new HttpError(400, 'bad.request', message, details);
}

/** Validates a request body (or query) with its zod schema; a mismatch is a 400 that says what is wrong. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw badRequest(z.prettifyError(result.error), { issues: result.error.issues });
  return result.data;
}

export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(notFound(`No route for ${req.method} ${req.path}`));
};

/** The one place where errors become status codes. */
export function errorResponder(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const error = toHttpError(err);
    if (error.status >= 500) logger.error({ err, method: req.method, path: req.path }, 'emulator route failed');
    if (res.headersSent) return;
    res.status(error.status).json(errorBody(error.status, error.code, error.message, error.details));
  };
}

/** Genesys Cloud's error body (the SDK's `ErrorBody`): every error carries a `contextId` for support cases. */
export function errorBody(status: number, code: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { message, code, status, contextId: randomUUID(), details: [], errors: [], ...extra };
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  // body-parser errors carry their own 4xx status (malformed JSON → 400, body too large → 413).
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, status === 413 ? 'request.too.large' : 'bad.request', (err as Error).message);
  }
  return new HttpError(500, 'internal.server.error', 'The emulator failed to handle the request');
}
