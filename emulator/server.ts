/**
 * `startEmulator`: builds one emulator (state, settings, delivery queue, route table) and serves it over real HTTP,
 * so tests (port 0: a free one) and the process entry run the same thing. `close()` cancels every timer and
 * delivery and closes every connection, so a test process exits without dangling handles.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type RequestHandler } from 'express';
import pino, { type Logger } from 'pino';
import { adminRoutes } from './admin';
import { configurationRoutes } from './configuration';
import type { EmulatorContext } from './context';
import { DeliveryQueue } from './delivery';
import { errorResponder, routeNotFound } from './errors';
import { injectFaults } from './faults';
import { githubAdminRoutes, githubApiRoutes } from './github';
import { integrationRoutes } from './integrations';
import { jiraAdminRoutes, jiraApiRoutes } from './jira';
import { oauthRoutes, requireBearer } from './oauth';
import { partnerRoutes } from './partner';
import { loadEmulatorState, StateSaver } from './persistence';
import { Scheduler } from './scheduler';
import { defaultSettings, type EmulatorSettings, EmulatorSettingsSchema } from './settings';
import { EmulatorState } from './state';
import { webhookSubscriptionRoutes } from './webhooks';
import { auditRoutes } from './audit-trail';
import { ChannelHub } from './notification-channels';
import { platformRoutes } from './platform-routes';
import { enforceBudgets, logRequests } from './request-budgets';

export interface StartEmulatorOptions {
  /** Listen port; 0 picks a free one. Default 4010. */
  port?: number;
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  settings?: Partial<EmulatorSettings>;
  /** Default: a silent logger, so tests stay quiet. */
  logger?: Logger;
  /** Keep the state in this file across restarts (persistence.ts); default: in memory only. */
  stateFile?: string;
}

export interface RunningEmulator {
  /** Base URL, e.g. `http://127.0.0.1:4010` (no trailing slash). */
  url: string;
  port: number;
  /** Stops listening, cancels timers and pending deliveries, and closes every open connection. */
  close(): Promise<void>;
}

export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const settings = EmulatorSettingsSchema.parse({ ...defaultSettings, ...options.settings });
  const logger = options.logger ?? pino({ level: 'silent' });
  const deliveries = new DeliveryQueue(logger);
  const requestTimers = new Scheduler();
  const state = options.stateFile ? loadEmulatorState(options.stateFile) : new EmulatorState();
  const channels = new ChannelHub();
  const ctx: EmulatorContext = { state, settings, startupSettings: settings, deliveries, channels, logger };
  const saver = options.stateFile ? new StateSaver(options.stateFile, () => ctx.state, logger) : undefined;

  const app = express();
  // Any request that is not a read may have changed the state: save it (debounced).
  if (saver) {
    app.use((req, res, next) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') res.on('finish', () => saver.changed());
      next();
    });
  }
  app.use(createEmulatorApp(ctx, requestTimers));
  const server = http.createServer(app);
  channels.attach(ctx, server);
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? 4010, host);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      requestTimers.cancelAll();
      channels.close();
      await deliveries.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      saver?.flush();
    })();
    return closing;
  };
  return { url: `http://${urlHost(host)}:${port}`, port, close };
}

/** The route table. Order matters: faults come first (they apply to everything but the admin API), the token
 * endpoints and partner systems need no Bearer token, `/github` and `/jira` check their own credentials, and every other `/api/v2`
 * route needs a Genesys Bearer token. */
export function createEmulatorApp(ctx: EmulatorContext, requestTimers: Scheduler): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(tagRequest(ctx.logger));
  // Like the platform, every answer names its request (support cases, and Tollgate's audit ledger of writes).
  app.use((_req, res, next) => {
    res.setHeader('ININ-Correlation-Id', randomUUID());
    next();
  });
  app.use(logRequests(ctx));
  // JSON bodies are read before any injected latency: a slow request has fully arrived, so a client that gives up
  // waiting for the answer does not stop the write from being applied (a slow write that lands after all).
  app.use(express.json({ limit: '5mb' }));
  app.use(injectFaults(ctx, requestTimers));
  app.use('/__emulator/github', githubAdminRoutes(ctx));
  app.use('/__emulator/jira', jiraAdminRoutes(ctx));
  app.use('/__emulator', adminRoutes(ctx));
  // GitHub, for the change gate's pull-request path (its own token, not Genesys' OAuth).
  app.use('/github', githubApiRoutes(ctx));
  // Jira Service Management, for the change tickets (HTTP Basic with an API token, not Genesys' OAuth).
  app.use('/jira', jiraApiRoutes(ctx));
  app.use(oauthRoutes(ctx));
  app.use(partnerRoutes(ctx));
  app.use('/api/v2', requireBearer(ctx));
  app.use('/api/v2', enforceBudgets(ctx));
  app.use(configurationRoutes(ctx));
  app.use(platformRoutes(ctx));
  app.use(auditRoutes(ctx));
  app.use(ctx.channels.routes(ctx));
  app.use(webhookSubscriptionRoutes(ctx));
  app.use(integrationRoutes(ctx));
  app.use(routeNotFound);
  app.use(errorResponder(ctx.logger));
  return app;
}

/** Genesys Cloud answers with a request id (the seed's deploy script logs `X-Request-Id`). */
function tagRequest(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const requestId = randomUUID();
    res.set('X-Request-Id', requestId);
    res.on('finish', () => logger.debug({ requestId, method: req.method, path: req.path, status: res.statusCode }, 'request'));
    next();
  };
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
