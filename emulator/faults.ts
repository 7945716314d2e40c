/**
 * Fault injection (`POST /__emulator/faults`) at the HTTP level: a status (429 with Retry-After, 503, …), a dropped
 * connection, added latency, or an answer lost after the write happened (`dropResponse`), matched by method and
 * path prefix, with a rate and a count. It exists so clients' retries, rate-limit waits and settle-by-reading run
 * against real sockets. It hits the Genesys API and partner routes, token endpoints included, never `/__emulator`.
 */
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { errorBody } from './errors';
import { matchesRequest, RequestMatchFields } from './request-match';
import type { Scheduler } from './scheduler';

/** `POST /__emulator/faults`. A fault answers with `status`, or destroys the connection (`drop`), after
 * `latencyMs`; a fault with only `latencyMs` slows the request down and lets it through. */
export const FaultSpecSchema = z
  .object({
    ...RequestMatchFields,
    status: z.number().int().min(100).max(599).optional(),
    rate: z.number().min(0).max(1).default(1),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    retryAfterSeconds: z.number().int().min(0).optional(),
    count: z.number().int().min(1).optional(),
    drop: z.boolean().default(false),
    /** The request is processed, then the connection is reset instead of answered: a write that happened but
     * whose answer was lost (the change gate settles such an outcome by reading). */
    dropResponse: z.boolean().default(false),
    /** A write is answered 200 with the object it would have produced, and not applied (no change, no audit entry,
     * no event): a platform that acknowledges and forgets, which only the change gate's read-back can catch. */
    discardWrite: z.boolean().default(false),
  })
  .refine((fault) => fault.status !== undefined || fault.latencyMs !== undefined || fault.drop || fault.dropResponse || fault.discardWrite, {
    message: 'A fault needs status, latencyMs, drop, dropResponse or discardWrite',
  });
export type FaultSpec = z.infer<typeof FaultSpecSchema>;

export interface Fault extends FaultSpec {
  id: string;
  /** How many requests this fault has hit; once it reaches `count` the fault is spent. */
  hits: number;
}

export function addFault(ctx: EmulatorContext, spec: FaultSpec): Fault {
  const fault: Fault = { ...spec, id: randomUUID(), hits: 0 };
  ctx.state.faults.push(fault);
  return fault;
}

/** Applies injected faults at the HTTP level to the Genesys API and partner routes; never to `/__emulator`. */
/** True when an injected fault asked this write to be acknowledged and not applied (see `discardWrite`). */
export function writeIsDiscarded(res: Response): boolean {
  return res.locals.discardWrite === true;
}

export function injectFaults(ctx: EmulatorContext, scheduler: Scheduler): RequestHandler {
  return (req, res, next) => {
    const path = req.path;
    if (path === '/__emulator' || path.startsWith('/__emulator/')) return next();
    const hits = faultsHitting(ctx.state.faults, req.method, path);
    if (hits.length === 0) return next();

    const ending = hits.find((fault) => fault.drop || fault.status !== undefined);
    const latencyMs = hits.reduce((total, fault) => total + (fault.latencyMs ?? 0), 0);
    ctx.logger.debug({ method: req.method, path, faults: hits.map((fault) => fault.id) }, 'fault injected');
    const act = (): void => {
      if (!ending && hits.some((fault) => fault.dropResponse)) loseAnswer(req, res);
      if (!ending && hits.some((fault) => fault.discardWrite)) res.locals.discardWrite = true;
      if (!ending) return next();
      if (ending.drop) return dropConnection(req);
      respondWithFault(res, ending);
    };
    if (latencyMs > 0) scheduler.after(latencyMs, act);
    else act();
  };
}

/** The faults that fire for this request: every latency-only fault that fires, and the first one that ends it. */
function faultsHitting(faults: Fault[], method: string, path: string): Fault[] {
  const hits: Fault[] = [];
  let ended = false;
  for (const fault of faults) {
    const ends = fault.drop || fault.status !== undefined;
    if (ends && ended) continue;
    if (!matches(fault, method, path) || !fires(fault)) continue;
    fault.hits += 1;
    hits.push(fault);
    ended ||= ends;
  }
  return hits;
}

function matches(fault: Fault, method: string, path: string): boolean {
  if (fault.count !== undefined && fault.hits >= fault.count) return false;
  return matchesRequest(fault, method, path);
}

function fires(fault: Fault): boolean {
  return fault.rate >= 1 || Math.random() < fault.rate;
}

/** No status, no headers: the client sees a reset socket, as when a load balancer kills the connection. */
function dropConnection(req: Request): void {
  req.socket.destroy();
}

/** Lets the route do its work, then resets the socket instead of sending what it answered. */
function loseAnswer(req: Request, res: Response): void {
  res.end = ((..._args: unknown[]) => {
    req.socket.destroy();
    return res;
  }) as Response['end'];
}

function respondWithFault(res: Response, fault: Fault): void {
  const status = fault.status ?? 500;
  // Genesys Cloud sends Retry-After with a 429; clients honour it (SPEC: "429 honours Retry-After").
  const retryAfter = fault.retryAfterSeconds ?? (status === 429 ? 1 : undefined);
  if (retryAfter !== undefined) res.set('Retry-After', String(retryAfter));
  res.status(status).json(errorBody(status, faultCode(status), `Injected fault ${fault.id}`, { faultId: fault.id }));
}

function faultCode(status: number): string {
  if (status === 429) return 'too.many.requests';
  if (status === 503) return 'service.unavailable';
  if (status === 504) return 'gateway.timeout';
  return 'emulated.fault';
}
