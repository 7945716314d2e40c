/**
 * Alerts go to the log and to a Slack-compatible incoming webhook (`TOLLGATE_ALERT_WEBHOOK_URL`); in sandbox mode
 * that is the emulator, which records them.
 */
import { request } from 'undici';
import type { Logger } from '../platform/logger';
import { activityLogger } from './activity-logger';

export interface Alert {
  kind: string;
  summary: string;
  details?: Record<string, unknown>;
}

export interface AlertSender {
  send(alert: Alert): Promise<void>;
}

export function createAlertSender(options: { webhookUrl?: string; logger: Logger; timeoutMs?: number }): AlertSender {
  return {
    async send(alert) {
      activityLogger(options.logger).warn({ alert }, `ALERT ${alert.kind}: ${alert.summary}`);
      if (!options.webhookUrl) return;
      const response = await request(options.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `:rotating_light: ${alert.kind}: ${alert.summary}`, kind: alert.kind, details: alert.details }),
        headersTimeout: options.timeoutMs ?? 5000,
        bodyTimeout: options.timeoutMs ?? 5000,
      });
      await response.body.dump();
      // A failed alert is retried by the activity that sends it; an alert must not be lost silently.
      if (response.statusCode >= 300) throw new Error(`alert webhook answered ${response.statusCode}`);
    },
  };
}
