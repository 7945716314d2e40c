/**
 * Structured logging (pino). Secrets are redacted by key wherever they appear, so a config object or an HTTP
 * header bag can be logged without leaking them.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACTED_KEYS = [
  'secret',
  'secrets',
  'clientSecret',
  'client_secret',
  'password',
  'authPassword',
  // The worker's Git host token (config.changeGate.github.token).
  'token',
  'apiKey',
  'access_token',
  'accessToken',
  'authorization',
  'Authorization',
  'crmClientSecret',
  'databaseUrl',
  'signature',
  // The mTLS client key of the Temporal connection (config.temporal.tls.key): `key` alone is too common a name.
  'tls.key',
];

export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  const settings = {
    level: options.level ?? 'info',
    name: options.name ?? 'tollgate',
    redact: {
      paths: REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]),
      censor: '[redacted]',
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
