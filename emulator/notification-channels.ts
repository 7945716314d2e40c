/**
 * Notification channels, as the official SDK's NotificationsApi calls them, over a real WebSocket (the `ws` package):
 *
 *   POST /api/v2/notifications/channels                          → { id, connectUri, expires }; 20 per OAuth client
 *                                                                   (a 21st removes the least recently used one)
 *   GET  /api/v2/notifications/channels                          → { entities } of this client
 *   HEAD /api/v2/notifications/channels/{channelId}              → 200 while it lives, else 404
 *   GET|PUT|POST|DELETE …/channels/{channelId}/subscriptions      list / replace / add / remove topics ({ entities })
 *   GET  /api/v2/notifications/availabletopics
 *   ws://<emulator>/channels/{channelId}                          the channel's connectUri
 *
 * A channel lives `channelTtlSeconds` (24 h, the platform's) from its creation or its last subscription change: a
 * client keeps it alive by subscribing again. Past that it is gone (404) and its sockets are closed after a
 * `v2.system.socket_closing` message. At most `channelTopicLimit` (1,000) topics per channel; topics name one
 * entity each, no wildcards. Every `channelHeartbeatSeconds` each socket hears `channel.metadata` "WebSocket Heartbeat".
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import express, { Router } from 'express';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { HttpError, badRequest, notFound, parseWith } from './errors';

/** Topics the emulator serves: one entity's audit trail (no wildcards, as on the platform). */
export const AUDIT_TOPIC = /^v2\.audits\.entitytype\.([A-Za-z][A-Za-z0-9]*)\.entityid\.(.+)$/;

interface Channel {
  id: string;
  clientId: string;
  topics: Set<string>;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number;
  sockets: Set<WebSocket>;
  delivered: number;
}

const TopicListSchema = z.array(z.object({ id: z.string().min(1) }).loose());

/** The channels and their sockets. Outlives a reset of the state (it is the server's), but `reset()` drops every
 * channel and closes every socket. */
export class ChannelHub {
  private readonly channels = new Map<string, Channel>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private timer: NodeJS.Timeout | undefined;

  /** Serves `ws://…/channels/{id}` on the emulator's HTTP server and starts the heartbeat and expiry sweep. */
  attach(ctx: EmulatorContext, server: http.Server): void {
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const match = /^\/channels\/([^/?]+)/.exec(req.url ?? '');
      const channel = match ? this.live(decodeURIComponent(match[1])) : undefined;
      if (!channel) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        channel.sockets.add(ws);
        channel.lastUsedAt = Date.now();
        ws.on('close', () => channel.sockets.delete(ws));
        ws.on('error', () => channel.sockets.delete(ws));
        // Clients may send anything (e.g. a ping message); the platform ignores what it does not know.
        ws.on('message', () => undefined);
      });
    });
    let sinceHeartbeat = 0;
    this.timer = setInterval(() => {
      this.sweep();
      sinceHeartbeat += 1;
      if (sinceHeartbeat >= ctx.settings.channelHeartbeatSeconds) {
        sinceHeartbeat = 0;
        for (const channel of this.channels.values()) this.send(channel, { topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } });
      }
    }, 1000);
    this.timer.unref();
  }

  routes(ctx: EmulatorContext): Router {
    const router = Router();
    router.post('/api/v2/notifications/channels', (req, res) => {
      const clientId = String(res.locals.clientId);
      const mine = [...this.channels.values()].filter((channel) => channel.clientId === clientId);
      if (mine.length >= ctx.settings.channelLimit) {
        // "Creating a 21st channel will remove the channel with oldest last used date; channels without an active
        // connection will be removed first" (the SDK's documentation of postNotificationsChannels).
        const victim = [...mine].sort((a, b) => Number(a.sockets.size > 0) - Number(b.sockets.size > 0) || a.lastUsedAt - b.lastUsedAt)[0];
        this.remove(victim, 'The channel was replaced by a newer one');
      }
      const now = Date.now();
      const channel: Channel = {
        id: randomUUID(),
        clientId,
        topics: new Set(),
        createdAt: now,
        expiresAt: now + ctx.settings.channelTtlSeconds * 1000,
        lastUsedAt: now,
        sockets: new Set(),
        delivered: 0,
      };
      this.channels.set(channel.id, channel);
      res.status(200).json(this.describe(channel, req));
    });

    router.get('/api/v2/notifications/channels', (req, res) => {
      const clientId = String(res.locals.clientId);
      res.json({ entities: [...this.channels.values()].filter((channel) => channel.clientId === clientId).map((channel) => this.describe(channel, req)) });
    });

    router.head('/api/v2/notifications/channels/:channelId', (req, res) => {
      this.own(req.params.channelId, String(res.locals.clientId));
      res.status(200).end();
    });

    router.get('/api/v2/notifications/channels/:channelId/subscriptions', (req, res) => {
      const channel = this.own(req.params.channelId, String(res.locals.clientId));
      res.json(listing(channel));
    });

    router.put('/api/v2/notifications/channels/:channelId/subscriptions', express.json({ limit: '1mb' }), (req, res) => {
      const channel = this.own(req.params.channelId, String(res.locals.clientId));
      const topics = topicsOf(req.body);
      this.subscribe(ctx, channel, new Set(topics));
      res.json(listing(channel));
    });

    router.post('/api/v2/notifications/channels/:channelId/subscriptions', express.json({ limit: '1mb' }), (req, res) => {
      const channel = this.own(req.params.channelId, String(res.locals.clientId));
      this.subscribe(ctx, channel, new Set([...channel.topics, ...topicsOf(req.body)]));
      res.json(listing(channel));
    });

    router.delete('/api/v2/notifications/channels/:channelId/subscriptions', (req, res) => {
      const channel = this.own(req.params.channelId, String(res.locals.clientId));
      channel.topics.clear();
      res.status(204).end();
    });

    router.get('/api/v2/notifications/availabletopics', (_req, res) => {
      res.json({
        entities: [
          {
            id: 'v2.audits.entitytype.{id}.entityid.{id}',
            description: 'Audit events of one entity',
            requiresPermissions: ['audits:audit:view'],
            schema: { type: 'object' },
            transports: ['Websocket'],
            publicApiTemplateUriPaths: ['/api/v2/audits/query/realtime'],
          },
        ],
      });
    });
    return router;
  }

  /** Sends an event to every live channel subscribed to `topic`. */
  publish(_ctx: EmulatorContext, topic: string, eventBody: Record<string, unknown>): void {
    for (const channel of this.channels.values()) {
      if (channel.expiresAt <= Date.now() || !channel.topics.has(topic)) continue;
      channel.delivered += this.send(channel, { topicName: topic, version: '2', eventBody, metadata: { CorrelationId: randomUUID() } });
    }
  }

  /** What `GET /__emulator/state` shows. */
  describeAll(): Record<string, unknown>[] {
    return [...this.channels.values()].map((channel) => ({
      id: channel.id,
      clientId: channel.clientId,
      topics: [...channel.topics],
      expires: new Date(channel.expiresAt).toISOString(),
      connections: channel.sockets.size,
      delivered: channel.delivered,
    }));
  }

  /** Drops every channel (an emulator reset). */
  reset(): void {
    for (const channel of [...this.channels.values()]) this.remove(channel, 'The emulator was reset');
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.reset();
    this.wss.close();
  }

  private subscribe(ctx: EmulatorContext, channel: Channel, topics: Set<string>): void {
    if (topics.size > ctx.settings.channelTopicLimit) {
      throw new HttpError(400, 'notification.channel.topic.limit.exceeded', `A channel takes at most ${ctx.settings.channelTopicLimit} topics; ${topics.size} were given`);
    }
    channel.topics = topics;
    // Subscribing is what keeps a channel alive past its lifetime.
    channel.expiresAt = Date.now() + ctx.settings.channelTtlSeconds * 1000;
    channel.lastUsedAt = Date.now();
  }

  private live(id: string): Channel | undefined {
    const channel = this.channels.get(id);
    if (!channel) return undefined;
    if (channel.expiresAt <= Date.now()) {
      this.remove(channel, 'The channel expired');
      return undefined;
    }
    return channel;
  }

  private own(id: string, clientId: string): Channel {
    const channel = this.live(id);
    if (!channel || channel.clientId !== clientId) throw notFound(`No channel ${id}`);
    return channel;
  }

  private sweep(): void {
    for (const channel of [...this.channels.values()]) if (channel.expiresAt <= Date.now()) this.remove(channel, 'The channel expired');
  }

  private remove(channel: Channel, reason: string): void {
    this.channels.delete(channel.id);
    this.send(channel, { topicName: 'v2.system.socket_closing', eventBody: { message: reason } });
    for (const socket of channel.sockets) socket.close(1000, 'channel closed');
    channel.sockets.clear();
  }

  private send(channel: Channel, message: Record<string, unknown>): number {
    const text = JSON.stringify(message);
    let sent = 0;
    for (const socket of channel.sockets) {
      if (socket.readyState !== socket.OPEN) continue;
      socket.send(text);
      sent += 1;
    }
    return sent;
  }

  private describe(channel: Channel, req: express.Request): Record<string, unknown> {
    return { connectUri: `ws://${req.headers.host ?? '127.0.0.1'}/channels/${channel.id}`, id: channel.id, expires: new Date(channel.expiresAt).toISOString() };
  }
}

function topicsOf(body: unknown): string[] {
  const topics = parseWith(TopicListSchema, body).map((topic) => topic.id);
  const invalid = topics.filter((topic) => !AUDIT_TOPIC.test(topic));
  if (invalid.length > 0) throw badRequest(`Not a topic this platform serves (no wildcards): ${invalid.slice(0, 5).join(', ')}`);
  return topics;
}

function listing(channel: Channel): { entities: { id: string; state: string; selfUri: string }[] } {
  return {
    entities: [...channel.topics].map((topic) => ({ id: topic, state: 'Permitted', selfUri: `/api/v2/notifications/channels/${channel.id}/subscriptions` })),
  };
}
