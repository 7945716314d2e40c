/** What the receivers' routes are built from. */
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import type { TemporalCalls } from './ack';
import type { ReceiverMetrics } from './metrics';
import type { TemporalReachability } from './temporal-reachability';

export interface ReceiverDeps {
  config: Config;
  temporal: Client;
  logger: Logger;
  metrics: ReceiverMetrics;
  /** The task queue workflows started by the receivers run on. */
  taskQueue: string;
  /** In-flight Temporal calls, awaited before the connection closes (see TemporalCalls). */
  calls?: TemporalCalls;
  /** Asked when a durable call is slow: a refused connection is answered 503 at once (receivers/ack.ts). */
  reachability?: TemporalReachability;
}
