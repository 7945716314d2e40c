/**
 * The real-time path of drift detection (issue 11): Genesys Cloud notification channels pushing the audit events of
 * every protected object, beside the heartbeat's Audit API poll, which stays as the safety net. An event seen both
 * ways is audited once: both start the same `audit:<type>:<id>:<version>` workflow (activities/audit-trail.ts).
 *
 * One channel set per deployment, not per worker process: the workers elect a leader with a PostgreSQL advisory lock
 * held on a dedicated connection (a leader that dies loses its connection, and the lock with it; another worker takes
 * over within one refresh). The leader
 *   - reads the protected objects (the deployment's target workflows) every TOLLGATE_CHANNEL_REFRESH and subscribes
 *     their audit topics `v2.audits.entitytype.{type}.entityid.{id}` — one topic per object, no wildcards —
 *     splitting them across channels past 1,000 topics (at most 20 channels per OAuth client);
 *   - renews each channel before it expires by subscribing again (TOLLGATE_CHANNEL_RENEW_BEFORE before `expires`;
 *     half its lifetime for shorter-lived ones);
 *   - replaces a channel whose socket closed or that the platform announced closing.
 * Channel requests go through the Genesys client, so they take permits from the shared request budget.
 */
import type { Client } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { auditChanges, auditedTypes } from '../activities/audit-trail';
import { listTargets } from '../client/change-gate';
import { targetAdapter } from '../genesys/adapters';
import { changeFromTopicEvent } from '../genesys/audit-queries';
import type { GenesysClient } from '../genesys/client';
import { CHANNELS_PER_CLIENT, CHANNEL_TOPIC_LIMIT, auditTopic, createChannel, openChannelSocket, replaceSubscriptions, type OpenSocket } from '../genesys/notification-channels';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';

export interface AuditChannelOptions {
  config: Config;
  logger: Logger;
  temporal: Client;
  genesys: GenesysClient;
  databaseUrl: string;
  taskQueue?: string;
}

export interface AuditChannelStatus {
  leader: boolean;
  channels: { id: string; topics: number; expires?: string; connected: boolean }[];
  eventsReceived: number;
  auditsStarted: number;
}

export interface RunningAuditChannel {
  status(): AuditChannelStatus;
  stop(): Promise<void>;
}

interface LiveChannel {
  id: string;
  connectUri: string;
  topics: string[];
  expiresAt: number;
  renewedAt: number;
  socket?: OpenSocket;
  dead: boolean;
}

/** Starts the listener in the background (when TOLLGATE_AUDIT_CHANNEL is on); `stop()` closes everything. */
export function startAuditChannel(options: AuditChannelOptions): RunningAuditChannel {
  const logger = options.logger.child({ component: 'audit-channel' });
  const taskQueue = options.taskQueue ?? options.config.temporal.taskQueue;
  const settings = options.config.changeGate.auditTrail;
  const topicLimit = Math.min(settings.channelTopicLimit, CHANNEL_TOPIC_LIMIT);
  const lockKey = `tollgate-audit-channel|${taskQueue}|${options.config.genesys.apiBase}|${options.config.genesys.clientId}`;
  let stopped = false;
  let wake: (() => void) | undefined;
  let lockClient: PgClient | undefined;
  let channels: LiveChannel[] = [];
  const counters = { eventsReceived: 0, auditsStarted: 0 };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const onEvent = (eventBody: unknown) => {
    const change = changeFromTopicEvent(eventBody);
    if (!change) return;
    counters.eventsReceived += 1;
    auditChanges({ temporal: options.temporal, config: options.config }, taskQueue, [change], 'channel').then(
      (counted) => {
        counters.auditsStarted += counted.auditsStarted;
      },
      (error: unknown) => logger.warn({ err: (error as Error).message }, 'could not start the audit of a pushed change; the Audit API poll will find it'),
    );
  };

  const connect = (channel: LiveChannel) => {
    channel.socket = openChannelSocket(channel.connectUri, {
      onMessage: (message) => {
        if (message.topicName === 'v2.system.socket_closing') channel.dead = true;
        else if (message.topicName.startsWith('v2.audits.')) onEvent(message.eventBody);
      },
      onClose: (reason) => {
        if (stopped) return;
        logger.info({ channelId: channel.id, reason }, 'notification channel socket closed; it will be replaced');
        channel.dead = true;
        wake?.();
      },
    });
  };

  /** One pass: the topics of every protected object, across as many channels as they need; renew what is due. */
  const reconcile = async () => {
    const types = new Set(auditedTypes(options.config).map((adapter) => adapter.type));
    const targets = (await listTargets(options.temporal, taskQueue)).filter((target) => types.has(target.type));
    const topics = [...new Set(targets.map((target) => {
      const adapter = targetAdapter(target.type);
      return auditTopic(adapter.audit!.entityType, adapter.auditEntityId(target.id));
    }))].sort();
    const chunks: string[][] = [];
    for (let start = 0; start < topics.length; start += topicLimit) chunks.push(topics.slice(start, start + topicLimit));
    if (chunks.length > CHANNELS_PER_CLIENT) {
      logger.warn({ topics: topics.length, covered: CHANNELS_PER_CLIENT * topicLimit }, 'more protected objects than notification channels can carry; the Audit API poll covers the rest');
      chunks.length = CHANNELS_PER_CLIENT;
    }
    // Channels that died are dropped and made again; channels beyond what is needed are closed.
    for (const channel of channels) if (channel.dead) channel.socket?.close();
    channels = channels.filter((channel) => !channel.dead);
    for (const extra of channels.splice(chunks.length)) extra.socket?.close();
    for (let index = 0; index < chunks.length; index++) {
      let channel = channels[index];
      if (!channel) {
        const created = await createChannel(options.genesys);
        channel = { id: created.id, connectUri: created.connectUri, topics: [], expiresAt: expiry(created.expires), renewedAt: Date.now(), dead: false };
        channels.push(channel);
        connect(channel);
        logger.info({ channelId: channel.id }, 'notification channel created');
      }
      const changed = channel.topics.join('\n') !== chunks[index].join('\n');
      if (changed || renewalDue(channel, settings.channelRenewBeforeMs)) {
        const accepted = await replaceSubscriptions(options.genesys, channel.id, chunks[index]);
        const rejected = accepted.filter((topic) => topic.state !== undefined && topic.state !== 'Permitted');
        if (rejected.length > 0) logger.warn({ channelId: channel.id, rejected: rejected.slice(0, 5) }, 'some audit topics were not permitted (audits:audit:view?)');
        channel.topics = chunks[index];
        // Subscribing resets the channel's lifetime to what it was at creation.
        channel.expiresAt = Date.now() + (channel.expiresAt - channel.renewedAt);
        channel.renewedAt = Date.now();
      }
    }
  };

  const lead = async () => {
    while (!stopped) {
      // The lock lives as long as its connection: a connection that broke means another worker may lead now.
      await lockClient!.query('SELECT 1');
      try {
        await reconcile();
      } catch (error) {
        logger.warn({ err: (error as Error).message }, 'notification channel upkeep failed; retrying');
      }
      await pause(settings.channelRefreshMs);
    }
  };

  const run = async () => {
    while (!stopped) {
      try {
        lockClient = new PgClient({ connectionString: options.databaseUrl });
        lockClient.on('error', () => undefined);
        await lockClient.connect();
        const { rows } = await lockClient.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [lockKey]);
        if (rows[0]?.locked) {
          logger.info({ taskQueue }, 'this worker keeps the notification channels');
          await lead();
        } else {
          await lockClient.end().catch(() => undefined);
          lockClient = undefined;
          await pause(settings.channelRefreshMs);
        }
      } catch (error) {
        if (!stopped) logger.warn({ err: (error as Error).message }, 'notification channel leadership lost or not reachable; retrying');
        await lockClient?.end().catch(() => undefined);
        lockClient = undefined;
        for (const channel of channels) channel.socket?.close();
        channels = [];
        if (!stopped) await pause(settings.channelRefreshMs);
      }
    }
  };

  const running = settings.channel ? run() : Promise.resolve();
  return {
    status: () => ({
      leader: lockClient !== undefined && channels.length > 0,
      channels: channels.map((channel) => ({
        id: channel.id,
        topics: channel.topics.length,
        expires: new Date(channel.expiresAt).toISOString(),
        connected: channel.socket?.open ?? false,
      })),
      ...counters,
    }),
    async stop() {
      stopped = true;
      wake?.();
      for (const channel of channels) channel.socket?.close();
      channels = [];
      await running;
      await lockClient?.end().catch(() => undefined);
      lockClient = undefined;
    },
  };
}

function expiry(expires: string | undefined): number {
  const at = expires ? Date.parse(expires) : NaN;
  return Number.isNaN(at) ? Date.now() + 86_400_000 : at;
}

/** Renew `renewBeforeMs` before expiry; a channel living less than twice that is renewed at half its life. */
function renewalDue(channel: LiveChannel, renewBeforeMs: number): boolean {
  const lifetime = channel.expiresAt - channel.renewedAt;
  const before = lifetime < 2 * renewBeforeMs ? lifetime / 2 : renewBeforeMs;
  return Date.now() >= channel.expiresAt - before;
}
