/**
 * The receivers process: the HTTP app on config.receivers.host:port, with a Temporal client, until close().
 * Stateless: any number of receivers can run side by side against one Temporal namespace.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { lazyClient, temporalAddress } from '../client/connection';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import { TemporalCalls } from './ack';
import { createReceiverApp } from './app';
import { createReceiverMetrics } from './metrics';
import { TemporalReachability } from './temporal-reachability';

/** How long close() lets in-flight requests finish before cutting their connections. */
export const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningReceivers {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startReceivers(options: {
  config: Config;
  logger: Logger;
  temporal?: Client;
  taskQueue?: string;
}): Promise<RunningReceivers> {
  const { config } = options;
  const logger = options.logger.child({ component: 'receivers' });
  const ownsClient = options.temporal === undefined;
  // Lazy: the receivers start, and say they are unready, while Temporal is down.
  const temporal = options.temporal ?? lazyClient(config.temporal);
  const metrics = createReceiverMetrics();
  const calls = new TemporalCalls();
  const reachability = new TemporalReachability(temporalAddress(config.temporal));
  const app = createReceiverApp({ config, temporal, logger, metrics, calls, reachability, taskQueue: options.taskQueue ?? config.temporal.taskQueue });

  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(config.receivers.port, config.receivers.host, (error?: Error) => {
        if (error) reject(error);
        else resolve(listening);
      });
      listening.once('error', reject);
    });
  } catch (error) {
    if (ownsClient) await temporal.connection.close();
    throw error;
  }
  // Slow-loris protection: a sender has 10 s for its headers and 30 s for the whole request.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  const { port } = server.address() as AddressInfo;
  const url = `http://${urlHost(config.receivers.host)}:${port}`;
  logger.info({ url }, 'receivers listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Stop accepting; idle keep-alive sockets go now, busy ones after their response.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await closed;
      clearTimeout(grace);
      // A call answered 503 at the ack deadline may still be retrying inside the SDK: let it end first.
      await calls.settled();
      if (ownsClient) await temporal.connection.close();
      logger.info('receivers stopped');
    })();
    return closing;
  };
  return { url, port, close };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
