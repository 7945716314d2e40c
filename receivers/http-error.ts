/**
 * HTTP errors of the receivers and the one place where errors become status codes. Routes and middleware
 * `throw` (or `next()`) an HttpError; `errorResponder` answers it. Anything else is a 500 that says nothing
 * about its cause to the caller (the log has it).
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../platform/logger';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** A stable, machine-readable reason: the body's `error` field. */
    readonly code: string,
    message: string = code,
    readonly headers: Record<string, string> = {},
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

export function errorResponder(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const error = toHttpError(err);
    if (error.status >= 500) logger.error({ err, method: req.method, path: req.path }, 'receiver request failed');
    res.status(error.status).set(error.headers).json({ error: error.code, ...error.details });
  };
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  // Errors from express itself (e.g. a malformed URL) carry a 4xx status; they say nothing secret.
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return new HttpError(status, 'bad_request');
  return new HttpError(500, 'internal_error', 'internal error');
}
