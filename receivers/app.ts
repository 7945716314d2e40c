/**
 * The receivers' HTTP app: health, readiness, metrics, the flood guard, the webhook routes (config audit,
 * lifecycle, GitHub), and the one error responder. There is deliberately no global body parser: each webhook route verifies the raw bytes first
 * (receivers/verified-webhook.ts) and parses only what verified.
 */
import express, { type Express, type RequestHandler, type Router } from 'express';
import { configAuditRoute } from './config-audit';
import type { ReceiverDeps } from './deps';
import { githubRoute } from './github';
import { errorResponder, routeNotFound } from './http-error';
import { lifecycleRoute } from './lifecycle';

/** How long /readyz waits for Temporal before calling the receiver unready. */
export const READINESS_TIMEOUT_MS = 1_000;

export interface ReceiverAppOptions {
  /** Extra routers mounted after the webhook routes, behind the flood guard (tests, extensions). */
  routes?: Router[];
}

const UNGUARDED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export function createReceiverApp(deps: ReceiverDeps, options: ReceiverAppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  // Liveness: the process runs and its event loop answers.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Readiness: Temporal answers a cheap call. A load balancer stops sending webhooks to an unready receiver,
  // which would only answer 503 anyway.
  app.get('/readyz', async (_req, res) => {
    const ready = await temporalAnswers(deps);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable' });
  });

  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.use(floodGuard(deps));
  app.use(configAuditRoute(deps));
  app.use(lifecycleRoute(deps));
  app.use(githubRoute(deps));
  for (const router of options.routes ?? []) app.use(router);

  app.use(routeNotFound);
  app.use(errorResponder(deps.logger));
  return app;
}

/**
 * SPEC: "A flood gets 429 with Retry-After rather than timeouts." Beyond config.receivers.maxInFlight concurrent
 * webhook requests, a new one is refused at once, before its body is read, instead of queueing until every
 * request misses the sender's 3 s timeout (lifecycle seed, Edge Case 1: event storm).
 */
function floodGuard(deps: ReceiverDeps): RequestHandler {
  const { maxInFlight } = deps.config.receivers;
  let inFlight = 0;
  return (req, res, next) => {
    if (UNGUARDED_PATHS.has(req.path)) {
      next();
      return;
    }
    if (inFlight >= maxInFlight) {
      deps.metrics.rejected.inc({ route: 'receiver', reason: 'overloaded' });
      res.status(429).set({ 'Retry-After': '1', Connection: 'close' }).json({ error: 'overloaded' });
      return;
    }
    inFlight += 1;
    deps.metrics.inFlight.set(inFlight);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight -= 1;
      deps.metrics.inFlight.set(inFlight);
    };
    res.once('finish', release);
    res.once('close', release);
    next();
  };
}

async function temporalAnswers(deps: ReceiverDeps): Promise<boolean> {
  const { connection } = deps.temporal;
  const track = <T>(call: Promise<T>) => (deps.calls ? deps.calls.track(call) : call);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      track(connection.withDeadline(Date.now() + READINESS_TIMEOUT_MS, () => connection.workflowService.getSystemInfo({}))),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('readiness deadline passed')), READINESS_TIMEOUT_MS + 100);
      }),
    ]);
    return true;
  } catch (error) {
    deps.logger.debug({ reason: error instanceof Error ? error.message : String(error) }, 'not ready: Temporal does not answer');
    return false;
  } finally {
    clearTimeout(timer);
  }
}
