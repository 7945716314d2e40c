/**
 * Genesys Cloud notification channels, as a client: create a channel (`POST /api/v2/notifications/channels` →
 * `{ id, connectUri, expires }`), replace its topic subscriptions (`PUT …/channels/{id}/subscriptions`, which also
 * keeps the channel alive past its 24 h lifetime), and open its WebSocket (`ws`). Messages arrive as
 * `{ topicName, eventBody }`; `channel.metadata` is the platform's heartbeat and `v2.system.socket_closing` says the
 * channel is about to go. Platform limits: topics name one entity each (no wildcards), about 1,000 per channel,
 * 20 channels per OAuth client.
 */
import WebSocket from 'ws';
import { z } from 'zod';
import type { GenesysClient } from './client';

export const CHANNEL_TOPIC_LIMIT = 1000;
export const CHANNELS_PER_CLIENT = 20;

const ChannelSchema = z.looseObject({ id: z.string().min(1), connectUri: z.string().min(1), expires: z.string().optional() });
const TopicListingSchema = z.looseObject({ entities: z.array(z.looseObject({ id: z.string(), state: z.string().optional() })).default([]) });
export type ChannelInfo = z.infer<typeof ChannelSchema>;

const MessageSchema = z.looseObject({ topicName: z.string(), eventBody: z.unknown().optional() });
export type ChannelMessage = z.infer<typeof MessageSchema>;

export function auditTopic(entityType: string, entityId: string): string {
  return `v2.audits.entitytype.${entityType}.entityid.${entityId}`;
}

export async function createChannel(genesys: GenesysClient): Promise<ChannelInfo> {
  return genesys.request('POST', '/api/v2/notifications/channels', ChannelSchema);
}

/** Replaces the channel's topics; the answer lists them with their state (a topic the client may not see is
 * `Rejected` there rather than failing the call). */
export async function replaceSubscriptions(genesys: GenesysClient, channelId: string, topics: string[]): Promise<{ id: string; state?: string }[]> {
  const listing = await genesys.request(
    'PUT',
    `/api/v2/notifications/channels/${encodeURIComponent(channelId)}/subscriptions`,
    TopicListingSchema,
    topics.map((id) => ({ id })),
  );
  return listing.entities;
}

export interface OpenSocket {
  close(): void;
  readonly open: boolean;
}

/** Opens the channel's WebSocket; `onMessage` hears every parsed message, `onClose` once when it ends. */
export function openChannelSocket(
  connectUri: string,
  handlers: { onMessage(message: ChannelMessage): void; onClose(reason: string): void; onOpen?(): void },
): OpenSocket {
  const socket = new WebSocket(connectUri);
  let closed = false;
  const end = (reason: string) => {
    if (closed) return;
    closed = true;
    handlers.onClose(reason);
  };
  socket.on('open', () => handlers.onOpen?.());
  socket.on('message', (data) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString());
    } catch {
      return;
    }
    const message = MessageSchema.safeParse(parsed);
    if (message.success) handlers.onMessage(message.data);
  });
  socket.on('close', (code) => end(`closed (${code})`));
  socket.on('error', (error) => end(`error: ${error.message}`));
  return {
    close: () => {
      closed = true;
      socket.close();
    },
    get open() {
      return !closed && socket.readyState === WebSocket.OPEN;
    },
  };
}
