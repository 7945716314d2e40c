/**
 * Configuration (platform/config.ts): read once from the environment, validated, `*_FILE` secrets, and a message
 * that names every bad setting.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approvalSourcesProblems } from '../approvals/approval-sources';
import { ConfigError, loadConfig, parseDuration, parseEnvFile, targetTypePolicy, withSandboxEnv } from '../platform/config';

describe('configuration', () => {
  it('defaults to sandbox mode with the emulator as Genesys Cloud and the partner systems', () => {
    const config = loadConfig({ EMULATOR_PORT: '4999' });
    expect(config.sandbox).toBe(true);
    expect(config.genesys.apiBase).toBe('http://127.0.0.1:4999');
    expect(config.lifecycle.middlewareUrl).toBe('http://127.0.0.1:4999/partner');
    expect(config.alerts.webhookUrl).toBe('http://127.0.0.1:4999/partner/alerts');
    expect(config.changeGate.requiredApprovals).toBe(2);
    expect(config.changeGate.approvers).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(config.receivers.lifecycle.profile.toleranceSeconds).toBe(90);
    expect(config.receivers.configAudit.profile.toleranceSeconds).toBe(300);
    expect(config.lifecycle.maxDeprovisionShare).toBe(0.1);
  });

  it('takes the reconciliation guard as a share between 0 and 1', () => {
    expect(loadConfig({ TOLLGATE_RECONCILE_MAX_DEPROVISION_SHARE: '0.25' }).lifecycle.maxDeprovisionShare).toBe(0.25);
    expect(() => loadConfig({ TOLLGATE_RECONCILE_MAX_DEPROVISION_SHARE: '25' })).toThrow(/TOLLGATE_RECONCILE_MAX_DEPROVISION_SHARE/);
  });

  it('stops with a message naming every bad or missing setting', () => {
    const attempt = () =>
      loadConfig({ RECEIVER_PORT: 'eighty', TOLLGATE_APPROVAL_TTL: 'soon', GENESYS_API_BASE: 'https://api.mypurecloud.com' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      for (const name of ['RECEIVER_PORT', 'TOLLGATE_APPROVAL_TTL', 'GENESYS_CLIENT_ID', 'GENESYS_CLIENT_SECRET', 'PARTNER_MIDDLEWARE_URL']) {
        expect(message).toContain(name);
      }
    }
  });

  it('reads every secret from a *_FILE path, and refuses both forms at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-config-'));
    writeFileSync(join(dir, 'token'), 'ghs_the-workers-own-token\n');
    writeFileSync(join(dir, 'secrets'), 'old-secret,new-secret');
    const config = loadConfig({
      TOLLGATE_GITHUB_TOKEN_FILE: join(dir, 'token'),
      LIFECYCLE_WEBHOOK_SECRETS_FILE: join(dir, 'secrets'),
      GITHUB_WEBHOOK_SECRETS_FILE: join(dir, 'secrets'),
    });
    expect(config.changeGate.github?.token).toBe('ghs_the-workers-own-token');
    expect(config.receivers.lifecycle.secrets).toEqual(['old-secret', 'new-secret']);
    expect(config.receivers.github.secrets).toEqual(['old-secret', 'new-secret']);
    expect(() => loadConfig({ TOLLGATE_GITHUB_TOKEN: 'x', TOLLGATE_GITHUB_TOKEN_FILE: join(dir, 'token') })).toThrow(
      /TOLLGATE_GITHUB_TOKEN and TOLLGATE_GITHUB_TOKEN_FILE/,
    );
    expect(() => loadConfig({ CRM_CLIENT_SECRET_FILE: join(dir, 'missing') })).toThrow(/CRM_CLIENT_SECRET_FILE: cannot read/);
  });

  it('reads approvers, the Git host and its login map as principals (trimmed, lower case, never blank)', () => {
    const config = loadConfig({
      TOLLGATE_APPROVERS: ' Alice , BOB,bob',
      TOLLGATE_GITHUB_TOKEN: 't',
      TOLLGATE_GITHUB_LOGINS: 'Octo-Cat=Alice@Example.com, hubot=bob',
      TOLLGATE_GITHUB_REPOSITORIES: 'Acme/Genesys-Config',
    });
    expect(config.changeGate.approvers).toEqual(['alice', 'bob']);
    expect(config.changeGate.github).toMatchObject({
      apiUrl: 'http://127.0.0.1:4010/github',
      logins: { 'octo-cat': 'alice@example.com', hubot: 'bob' },
      repositories: ['acme/genesys-config'],
      pathPattern: 'genesys/{type}/{id}.json',
    });
    expect(config.changeGate.allowedSignersPath).toMatch(/allowed_signers$/);
    expect(() => loadConfig({ TOLLGATE_GITHUB_LOGINS: 'octocat=' })).toThrow(/TOLLGATE_GITHUB_LOGINS/);
    expect(() => loadConfig({ TOLLGATE_APPROVERS: 'alice,has space' })).toThrow(/TOLLGATE_APPROVERS/);
    // Outside the sandbox there is no default allowed-signers file, and no Git host without a token.
    const production = loadConfig({
      GENESYS_API_BASE: 'https://api.mypurecloud.com',
      GENESYS_CLIENT_ID: 'id',
      GENESYS_CLIENT_SECRET: 'secret',
      PARTNER_MIDDLEWARE_URL: 'https://m.example.com',
      PARTNER_CRM_URL: 'https://c.example.com',
      PARTNER_ARCHIVE_URL: 'https://a.example.com',
    });
    expect(production.changeGate.allowedSignersPath).toBeUndefined();
    expect(production.changeGate.github).toBeUndefined();
    expect(approvalSourcesProblems(production)).toEqual([expect.stringMatching(/TOLLGATE_ALLOWED_SIGNERS .* TOLLGATE_GITHUB_TOKEN/)]);
    expect(approvalSourcesProblems({ changeGate: { ...production.changeGate, allowedSignersPath: '/nonexistent/allowed_signers' } })).toEqual([
      expect.stringMatching(/cannot read \/nonexistent\/allowed_signers/),
    ]);
  });

  it('`tollgate worker` outside the sandbox refuses to start with nothing to verify approvals against', () => {
    const result = spawnSync(process.execPath, [join(__dirname, '..', 'bin/tollgate.js'), 'worker'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        TOLLGATE_HOME: mkdtempSync(join(tmpdir(), 'tollgate-worker-')),
        TEMPORAL_ADDRESS: '127.0.0.1:1',
        GENESYS_API_BASE: 'https://api.mypurecloud.com',
        GENESYS_CLIENT_ID: 'id',
        GENESYS_CLIENT_SECRET: 'secret',
        PARTNER_MIDDLEWARE_URL: 'https://m.example.com',
        PARTNER_CRM_URL: 'https://c.example.com',
        PARTNER_ARCHIVE_URL: 'https://a.example.com',
      },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/TOLLGATE_ALLOWED_SIGNERS .* TOLLGATE_GITHUB_TOKEN/);
  });

  it('supports Temporal Cloud with an API key or mTLS', () => {
    expect(loadConfig({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'k' }).temporal.tls).toBeDefined();
    expect(() => loadConfig({ TEMPORAL_TLS_KEY: 'key.pem' })).toThrow(/TEMPORAL_TLS_CERT/);
  });

  it('parses durations, business hours and per-type target policies', () => {
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('1500ms')).toBe(1500);
    const config = loadConfig({
      TOLLGATE_BUSINESS_HOURS: 'Mon-Fri 08:00-18:00',
      TOLLGATE_TARGETS: '{"ivr":{"onDrift":"revert"},"flow":{"versionRule":"current"}}',
    });
    expect(config.changeGate.heartbeat.businessHours).toEqual({ always: false, fromDay: 1, toDay: 5, fromMinute: 480, toMinute: 1080 });
    expect(targetTypePolicy(config, 'ivr')).toEqual({ versionRule: 'increment', onDrift: 'revert' });
    expect(targetTypePolicy(config, 'flow')).toEqual({ versionRule: 'current', onDrift: 'alert' });
    expect(targetTypePolicy(config, 'trunk')).toEqual({ versionRule: 'increment', onDrift: 'alert' });
    expect(() => loadConfig({ TOLLGATE_TARGETS: '{"ivr":{"onDrift":"ignore"}}' })).toThrow(/TOLLGATE_TARGETS/);
  });

  it('lets the environment win over .tollgate/sandbox.env', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-sandbox-'));
    writeFileSync(join(dir, 'sandbox.env'), '# comment\nTEMPORAL_ADDRESS=127.0.0.1:7233\nTOLLGATE_GITHUB_TOKEN=from-file-0123456789\n');
    expect(parseEnvFile('A=1\n\n# x\nB=two=2')).toEqual({ A: '1', B: 'two=2' });
    const env = withSandboxEnv({ TEMPORAL_ADDRESS: 'elsewhere:7233' }, join(dir, 'sandbox.env'));
    expect(env.TEMPORAL_ADDRESS).toBe('elsewhere:7233');
    expect(env.TOLLGATE_GITHUB_TOKEN).toBe('from-file-0123456789');
    expect(withSandboxEnv({ A: '1' }, join(dir, 'missing.env'))).toEqual({ A: '1' });
  });

  it('sets both Genesys hosts from GENESYS_REGION (a region name or its host), explicit bases winning, and leaves sandbox mode', () => {
    const real = { GENESYS_CLIENT_ID: 'id', GENESYS_CLIENT_SECRET: 'secret', PARTNER_MIDDLEWARE_URL: 'https://m.example', PARTNER_CRM_URL: 'https://c.example', PARTNER_ARCHIVE_URL: 'https://a.example' };
    const ireland = loadConfig({ ...real, GENESYS_REGION: 'eu-west-1' });
    expect(ireland.sandbox).toBe(false);
    expect(ireland.genesys).toMatchObject({ apiBase: 'https://api.mypurecloud.ie', loginBase: 'https://login.mypurecloud.ie', region: 'mypurecloud.ie', seedContract: false });
    expect(loadConfig({ ...real, GENESYS_REGION: 'usw2.pure.cloud' }).genesys.loginBase).toBe('https://login.usw2.pure.cloud');
    expect(loadConfig({ ...real, GENESYS_REGION: 'ap_northeast_1' }).genesys.apiBase).toBe('https://api.mypurecloud.jp');
    expect(loadConfig({ ...real, GENESYS_REGION: 'eu-central-1', GENESYS_API_BASE: 'https://gateway.example/api' }).genesys).toMatchObject({
      apiBase: 'https://gateway.example/api',
      loginBase: 'https://login.mypurecloud.de',
    });
    expect(() => loadConfig({ ...real, GENESYS_REGION: 'mars-1' })).toThrow(/GENESYS_REGION: unknown region/);
    expect(() => loadConfig({ GENESYS_REGION: 'eu-west-1' })).toThrow(/GENESYS_CLIENT_ID: required when GENESYS_REGION is set/);
    // The sandbox serves both contracts.
    expect(loadConfig({}).genesys.seedContract).toBe(true);
  });

  it('reads the request budget, the per-resource budgets and the Audit API settings', () => {
    const config = loadConfig({
      GENESYS_REQUESTS_PER_MINUTE: '250',
      GENESYS_RESOURCE_BUDGETS: '{"POST /api/v2/audits/query": 60, "* /api/v2/users": 100}',
      TOLLGATE_AUDIT_CHANNEL: 'off',
      TOLLGATE_AUDIT_TYPES: 'architect.schedule,routing.queue',
      TOLLGATE_CHANNEL_TOPIC_LIMIT: '500',
    });
    expect(config.genesys.requestsPerMinute).toBe(250);
    expect(config.genesys.resourceBudgets).toEqual([
      { method: 'POST', pathPrefix: '/api/v2/audits/query', perMinute: 60 },
      { method: undefined, pathPrefix: '/api/v2/users', perMinute: 100 },
    ]);
    expect(config.changeGate.auditTrail).toMatchObject({ poll: true, channel: false, types: ['architect.schedule', 'routing.queue'], channelTopicLimit: 500, overlapMs: 120_000 });
    expect(() => loadConfig({ GENESYS_RESOURCE_BUDGETS: '{"/api/v2/users": 10}' })).toThrow(/GENESYS_RESOURCE_BUDGETS/);
    expect(() => loadConfig({ TOLLGATE_CHANNEL_TOPIC_LIMIT: '5000' })).toThrow(/TOLLGATE_CHANNEL_TOPIC_LIMIT/);
  });

  it('reads the outbound event endpoints with their signing secrets from a file, and the Jira adapter\'s settings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-config-'));
    const [fresh, old] = [`whsec_${Buffer.alloc(32, 1).toString('base64')}`, `whsec_${Buffer.alloc(32, 2).toString('base64')}`];
    writeFileSync(join(dir, 'event-secrets.json'), JSON.stringify({ 'change-feed': [fresh, old] }));
    writeFileSync(join(dir, 'jira-token'), 'ATATT-jira-api-token\n');
    const config = loadConfig({
      TOLLGATE_EVENT_ENDPOINTS: JSON.stringify([{ name: 'change-feed', url: 'https://hooks.example/tollgate', types: ['change.*', 'audit.drift'], targets: ['architect.*'], from: 'start' }]),
      TOLLGATE_EVENT_SECRETS_FILE: join(dir, 'event-secrets.json'),
      TOLLGATE_EVENT_RETRY_MAX: '10m',
      TOLLGATE_JIRA_URL: 'https://acme.atlassian.net/',
      TOLLGATE_JIRA_USER: 'tollgate-bot@acme.example',
      TOLLGATE_JIRA_API_TOKEN_FILE: join(dir, 'jira-token'),
      TOLLGATE_JIRA_PROJECT: 'CHG',
      TOLLGATE_JIRA_TRANSITIONS: '{"done":"Complete","deploying":"","approved":"Approve"}',
      TOLLGATE_JIRA_TARGETS: 'architect.*, routing.queue/*',
      TOLLGATE_GITHUB_TOKEN: 'ghs_x',
      TOLLGATE_GITHUB_API_URL: 'https://ghe.acme.example/api/v3',
    });
    expect(config.events.webhooks).toEqual([
      { name: 'change-feed', url: 'https://hooks.example/tollgate', types: ['change.*', 'audit.drift'], targets: ['architect.*'], from: 'start', secrets: [fresh, old] },
    ]);
    expect(config.events).toMatchObject({ pollMs: 500, timeoutMs: 15_000, retryMaxMs: 600_000, pullRequestWebUrl: 'https://ghe.acme.example' });
    expect(loadConfig({ TOLLGATE_GITHUB_TOKEN: 'ghs_x', TOLLGATE_GITHUB_API_URL: 'https://api.github.com' }).events.pullRequestWebUrl).toBe('https://github.com');
    expect(config.events.jira).toEqual({
      url: 'https://acme.atlassian.net',
      user: 'tollgate-bot@acme.example',
      apiToken: 'ATATT-jira-api-token',
      project: 'CHG',
      issueType: 'Change',
      // Over the defaults; an empty name turns a default off.
      transitions: {
        approved: 'Approve',
        done: 'Complete',
        rejected: 'Decline',
        withdrawn: 'Cancel',
        expired: 'Cancel',
        cancelled: 'Cancel',
        failed: 'Mark as failed',
        rolled_back: 'Mark as failed',
        diverged: 'Mark as failed',
      },
      targets: ['architect.*', 'routing.queue/*'],
      searchSettleMs: 30_000,
    });
    // Off by default: no endpoints, no Jira.
    expect(loadConfig({}).events.webhooks).toEqual([]);
    expect(loadConfig({}).events.jira).toBeUndefined();
  });

  it('names what is missing or wrong in the event and Jira settings, never echoing a secret', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    const jira = problems({ TOLLGATE_JIRA_URL: 'https://acme.atlassian.net' });
    for (const name of ['TOLLGATE_JIRA_USER', 'TOLLGATE_JIRA_API_TOKEN', 'TOLLGATE_JIRA_PROJECT']) expect(jira).toContain(name);
    expect(problems({ TOLLGATE_JIRA_TRANSITIONS: '{"finished":"Done"}' })).toContain('TOLLGATE_JIRA_TRANSITIONS');
    expect(problems({ TOLLGATE_JIRA_PROJECT: 'chg' })).toContain('TOLLGATE_JIRA_PROJECT');
    expect(problems({ TOLLGATE_JIRA_TARGETS: 'ivr main' })).toContain('TOLLGATE_JIRA_TARGETS');
    const endpoint = (entry: Record<string, unknown>) => ({ TOLLGATE_EVENT_ENDPOINTS: JSON.stringify([entry]), TOLLGATE_EVENT_SECRETS: JSON.stringify({ [String(entry.name)]: `whsec_${Buffer.alloc(24).toString('base64')}` }) });
    expect(problems(endpoint({ name: 'jira', url: 'https://hooks.example' }))).toContain("is the Jira adapter's name");
    expect(problems(endpoint({ name: 'feed', url: 'ftp://hooks.example' }))).toContain('TOLLGATE_EVENT_ENDPOINTS');
    expect(problems(endpoint({ name: 'feed', url: 'https://hooks.example', types: ['approved'] }))).toContain('TOLLGATE_EVENT_ENDPOINTS');
    expect(problems({ TOLLGATE_EVENT_ENDPOINTS: JSON.stringify([{ name: 'a', url: 'https://x.example' }, { name: 'a', url: 'https://y.example' }]) })).toContain('used twice');
    const weak = problems({ ...endpoint({ name: 'feed', url: 'https://hooks.example' }), TOLLGATE_EVENT_SECRETS: '{"feed":"whsec_dG9vLXNob3J0"}' });
    expect(weak).toContain('TOLLGATE_EVENT_SECRETS');
    expect(weak).not.toContain('dG9vLXNob3J0');
  });
});
