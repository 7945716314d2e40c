/**
 * The one context every route module is built from: state, settings, the delivery queue and the logger. It exists
 * so that `POST /__emulator/reset` can swap state and settings in one place without rebuilding the routes.
 */
import type { Logger } from 'pino';
import type { DeliveryQueue } from './delivery';
import type { ChannelHub } from './notification-channels';
import type { EmulatorSettings } from './settings';
import type { EmulatorState } from './state';

/** What every route module works with. `state` and `settings` are replaced on reset, so read them through the
 * context each time instead of keeping a reference. */
export interface EmulatorContext {
  state: EmulatorState;
  settings: EmulatorSettings;
  readonly startupSettings: EmulatorSettings;
  readonly deliveries: DeliveryQueue;
  /** Notification channels and their WebSockets (they belong to the server, not to the resettable state). */
  readonly channels: ChannelHub;
  readonly logger: Logger;
}
