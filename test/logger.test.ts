/** Secrets never reach the logs: the logger redacts them by key at any depth a config or request object has. */
import { Writable } from 'node:stream';
import pino from 'pino';
import { createLogger, REDACTED_KEYS } from '../platform/logger';
import { loadConfig } from '../platform/config';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('logging', () => {
  it('redacts every secret of a whole configuration object and of request headers', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'info', destination: stream });
    const config = loadConfig({
      GENESYS_CLIENT_SECRET: 'genesys-secret-value',
      TOLLGATE_GITHUB_TOKEN: 'github-token-value-0123',
      GITHUB_WEBHOOK_SECRETS: 'github-webhook-secret-value',
      CRM_CLIENT_SECRET: 'crm-secret-value',
      DATABASE_URL: 'postgres://u:db-password-value@h/db',
      TEMPORAL_API_KEY: 'temporal-api-key-value',
      TEMPORAL_TLS_CERT: '-----BEGIN CERTIFICATE----- tls-cert-is-public',
      TEMPORAL_TLS_KEY: '-----BEGIN PRIVATE KEY----- tls-key-value',
      CONFIG_AUDIT_WEBHOOK_SECRETS: 'audit-secret-old,audit-secret-new',
      LIFECYCLE_WEBHOOK_SECRETS: 'lifecycle-secret-value',
    });
    logger.info({ config }, 'configuration');
    logger.info({ headers: { authorization: 'Bearer token-value' }, body: { clientSecret: 'crm-secret-value' } }, 'request');
    const output = lines.join('');
    expect(output).toContain('tls-cert-is-public'); // the whole configuration was logged, not an empty object
    for (const secret of [
      'genesys-secret-value',
      'github-token-value-0123',
      'github-webhook-secret-value',
      'crm-secret-value',
      'db-password-value',
      'temporal-api-key-value',
      'tls-key-value',
      'audit-secret-old',
      'audit-secret-new',
      'lifecycle-secret-value',
      'token-value',
    ]) {
      expect(output).not.toContain(secret);
    }
    expect(output).toContain('[redacted]');
    expect(REDACTED_KEYS).toEqual(expect.arrayContaining(['clientSecret', 'token', 'authorization']));
    expect(pino.levels.values.info).toBe(30);
  });
});
