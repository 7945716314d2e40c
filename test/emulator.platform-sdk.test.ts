/**
 * The platform's own client is the judge of the emulator's fidelity: Genesys' official JavaScript SDK
 * (`purecloud-platform-client-v2`, pinned) drives the emulator's real-platform routes with its gateway pointed at
 * the emulator — client-credentials login, get and update of every supported target type under its version rule,
 * both version-conflict answers, paging, the two audit query APIs, notification channels and their topics, and the
 * normalised 429. Where the SDK and the emulator disagree, the SDK is right: these tests change the emulator.
 */
import platformClient from 'purecloud-platform-client-v2';
import WebSocket from 'ws';
import { useEmulator } from './fixtures';

const CLIENT_ID = 'sdk-contract-client';
const CLIENT_SECRET = 'sdk-contract-secret';
const { emulator, client: admin } = useEmulator({ clients: { [CLIENT_ID]: CLIENT_SECRET, 'other-client': 'other-secret' } });

type SdkError = { status: number; headers: Record<string, string>; body: { message: string; code: string; status: number; contextId?: string; details?: unknown[]; errors?: unknown[] } };

let api: platformClient.ApiClientClass;
let architect: platformClient.ArchitectApi;
let routing: platformClient.RoutingApi;
let users: platformClient.UsersApi;
let audit: platformClient.AuditApi;
let notifications: platformClient.NotificationsApi;

beforeAll(async () => {
  api = platformClient.ApiClient.instance;
  // The SDK watches a config file in the home directory; a test must not leave that watcher running.
  (api as unknown as { config: { live_reload_config: boolean } }).config.live_reload_config = false;
  api.setGateway({ host: '127.0.0.1', protocol: 'http', port: emulator.port });
  architect = new platformClient.ArchitectApi();
  routing = new platformClient.RoutingApi();
  users = new platformClient.UsersApi();
  audit = new platformClient.AuditApi();
  notifications = new platformClient.NotificationsApi();
  await api.loginClientCredentialsGrant(CLIENT_ID, CLIENT_SECRET);
});

afterEach(async () => {
  api.setReturnExtendedResponses(false);
});

/** What the SDK rejects with, in its extended form (status, headers and the ErrorBody). */
async function failure(call: () => Promise<unknown>): Promise<SdkError> {
  api.setReturnExtendedResponses(true);
  try {
    await call();
  } catch (error) {
    return error as SdkError;
  } finally {
    api.setReturnExtendedResponses(false);
  }
  throw new Error('the call was expected to fail');
}

const uiEdit = (path: string, fields: Record<string, unknown>, who: { user?: string; client?: string } = { user: 'Eve Admin' }) =>
  admin.admin('POST', '/ui-edit', { path, fields, ...who });

describe('client-credentials login', () => {
  it('logs in with the SDK and refuses a wrong secret', async () => {
    const other = new platformClient.ApiClientClass();
    (other as unknown as { config: { live_reload_config: boolean } }).config.live_reload_config = false;
    other.setGateway({ host: '127.0.0.1', protocol: 'http', port: emulator.port });
    await expect(other.loginClientCredentialsGrant(CLIENT_ID, 'wrong')).rejects.toBeDefined();
    const auth = await other.loginClientCredentialsGrant(CLIENT_ID, CLIENT_SECRET);
    expect(auth.accessToken).toEqual(expect.any(String));
    expect(auth.tokenExpiryTime).toBeGreaterThan(Date.now());
  });
});

/** The versioned Architect objects: a PUT carries the current version, the server assigns the next. */
describe.each([
  {
    type: 'architect.ivr',
    create: () => architect.postArchitectIvrs({ name: `ivr-${Date.now()}`, dnis: ['+13175550100'] }),
    get: (id: string) => architect.getArchitectIvr(id),
    put: (id: string, body: Record<string, unknown>) => architect.putArchitectIvr(id, body as unknown as platformClient.Models.IVR),
    path: (id: string) => `/api/v2/architect/ivrs/${id}`,
    change: { description: 'after hours moved' },
  },
  {
    type: 'architect.schedule',
    create: () => architect.postArchitectSchedules({ name: `schedule-${Date.now()}`, start: '2026-01-01T08:00:00.000', end: '2026-01-01T18:00:00.000', rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR' }),
    get: (id: string) => architect.getArchitectSchedule(id),
    put: (id: string, body: Record<string, unknown>) => architect.putArchitectSchedule(id, body as unknown as platformClient.Models.Schedule),
    path: (id: string) => `/api/v2/architect/schedules/${id}`,
    change: { end: '2026-01-01T20:00:00.000' },
  },
  {
    type: 'architect.schedulegroup',
    create: () => architect.postArchitectSchedulegroups({ name: `group-${Date.now()}`, timeZone: 'Europe/Paris' }),
    get: (id: string) => architect.getArchitectSchedulegroup(id),
    put: (id: string, body: Record<string, unknown>) => architect.putArchitectSchedulegroup(id, body as unknown as platformClient.Models.ScheduleGroup),
    path: (id: string) => `/api/v2/architect/schedulegroups/${id}`,
    change: { timeZone: 'America/New_York' },
  },
  {
    type: 'architect.emergencygroup',
    create: () => architect.postArchitectEmergencygroups({ name: `emergency-${Date.now()}`, enabled: false }),
    get: (id: string) => architect.getArchitectEmergencygroup(id),
    put: (id: string, body: Record<string, unknown>) => architect.putArchitectEmergencygroup(id, body as unknown as platformClient.Models.EmergencyGroup),
    path: (id: string) => `/api/v2/architect/emergencygroups/${id}`,
    change: { enabled: true },
  },
])('$type (versioned: send the current version)', ({ type, create, get, put, path, change }) => {
  it('creates on the collection, reads, and updates with the current version; the server assigns the next', async () => {
    const created = (await create()) as { id: string; version: number; selfUri: string; dateModified: string };
    expect(created).toMatchObject({ id: expect.any(String), version: 1, selfUri: path(created.id) });
    const read = (await get(created.id)) as unknown as Record<string, unknown>;
    const updated = (await put(created.id, { ...read, ...change })) as unknown as Record<string, unknown>;
    expect(updated).toMatchObject({ ...change, version: 2 });
    expect(await get(created.id)).toMatchObject({ ...change, version: 2 });
  });

  it('answers a stale version with 409 "…must match the version number in the database."', async () => {
    const created = (await create()) as unknown as Record<string, unknown> & { id: string };
    await put(created.id, { ...created, ...change });
    const conflict = await failure(() => put(created.id, { ...created, description: 'stale' }));
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({
      status: 409,
      message: 'The version number of the modified resource must match the version number in the database.',
      contextId: expect.any(String),
      details: [],
      errors: [],
    });
  });

  it('answers a stale version with 400 "…does not match the current version…" where the type is set to', async () => {
    await admin.admin('PUT', `/conflicts/${type}`, { status: 400 });
    try {
      const created = (await create()) as unknown as Record<string, unknown> & { id: string };
      await put(created.id, { ...created, ...change });
      const conflict = await failure(() => put(created.id, { ...created, description: 'stale' }));
      expect(conflict.status).toBe(400);
      expect(conflict.body.message).toContain('does not match the current version');
    } finally {
      await admin.admin('PUT', `/conflicts/${type}`, { status: 409 });
    }
  });
});

describe('routing.queue and routing.wrapupcode (no version: last writer wins)', () => {
  it('updates a queue with a QueueRequest and never refuses a stale body', async () => {
    const queue = await routing.postRoutingQueues({ name: `queue-${Date.now()}`, description: 'first' });
    expect(queue).toMatchObject({ id: expect.any(String), name: expect.stringMatching(/^queue-/), memberCount: 0, selfUri: `/api/v2/routing/queues/${queue.id}` });
    expect(queue).not.toHaveProperty('version');
    const first = await routing.putRoutingQueue(queue.id!, { name: queue.name!, description: 'second' });
    expect(first.description).toBe('second');
    // The same stale body again: accepted, and it wins.
    const second = await routing.putRoutingQueue(queue.id!, { name: queue.name!, description: 'third' });
    expect(second.description).toBe('third');
    expect(await routing.getRoutingQueue(queue.id!)).toMatchObject({ description: 'third' });
  });

  it('updates a wrap-up code', async () => {
    const code = await routing.postRoutingWrapupcodes({ name: `wrap-${Date.now()}` });
    const updated = await routing.putRoutingWrapupcode(code.id!, { name: code.name!, description: 'resolved' });
    expect(updated).toMatchObject({ id: code.id, description: 'resolved' });
    expect(await routing.getRoutingWrapupcode(code.id!)).toMatchObject({ description: 'resolved' });
  });

  it('pages a collection with pageNumber, pageSize, total, pageCount and nextUri', async () => {
    for (let i = 0; i < 3; i++) await routing.postRoutingQueues({ name: `paged-${Date.now()}-${i}` });
    const page = await routing.getRoutingQueues({ pageSize: 2, pageNumber: 1 });
    expect(page).toMatchObject({ pageSize: 2, pageNumber: 1, total: expect.any(Number), pageCount: expect.any(Number), nextUri: expect.stringContaining('pageNumber=2') });
    expect(page.entities).toHaveLength(2);
    expect(page.pageCount).toBe(Math.ceil(page.total! / 2));
  });
});

describe('datatable.row (no version)', () => {
  it('creates a table and a row, reads the full row with showbrief=false, and replaces it', async () => {
    const table = await architect.postFlowsDatatables({
      name: `hours-${Date.now()}`,
      schema: { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object', properties: { key: { type: 'string' }, open: { type: 'boolean' } } } as never,
    });
    await architect.postFlowsDatatableRows(table.id!, { key: 'paris', open: true, note: 'x' });
    expect(await architect.getFlowsDatatableRow(table.id!, 'paris')).toEqual({ key: 'paris' });
    expect(await architect.getFlowsDatatableRow(table.id!, 'paris', { showbrief: false })).toEqual({ key: 'paris', open: true, note: 'x' });
    const replaced = await architect.putFlowsDatatableRow(table.id!, 'paris', { body: { key: 'paris', open: false } });
    expect(replaced).toEqual({ key: 'paris', open: false });
  });
});

describe('user (PATCH with the current version)', () => {
  it('patches routing fields with the current version, and answers a stale one with 409', async () => {
    const user = await users.postUsers({ name: 'Ada Agent', email: `ada-${Date.now()}@example.com`, divisionId: 'home', password: 'not-stored' });
    expect(user).toMatchObject({ version: 1, state: 'active' });
    expect(user).not.toHaveProperty('password');
    const patched = await users.patchUser(user.id!, { version: 1, acdAutoAnswer: true });
    expect(patched).toMatchObject({ acdAutoAnswer: true, version: 2, name: 'Ada Agent' });
    const conflict = await failure(() => users.patchUser(user.id!, { version: 1, acdAutoAnswer: false }));
    expect(conflict.status).toBe(409);
  });

  it('shows groups and locations only when expand names them, as the platform does', async () => {
    const groups = [{ id: 'a1b2c3d4-0000-4000-8000-000000000010', selfUri: '/api/v2/groups/a1b2c3d4-0000-4000-8000-000000000010' }];
    const locations = [{ locationDefinition: { id: 'a1b2c3d4-0000-4000-8000-000000000020' }, notes: 'Paris office' }];
    const user = await users.postUsers({ name: 'Gus Grouped', email: `gus-${Date.now()}@example.com`, divisionId: 'home', groups, locations } as never);
    // Neither the create's nor the PATCH's answer shows them; neither does a GET without expand (list or item).
    expect(user).not.toHaveProperty('groups');
    expect(user).not.toHaveProperty('locations');
    const patched = await users.patchUser(user.id!, { version: 1, acdAutoAnswer: true });
    expect(patched).not.toHaveProperty('groups');
    const plain = await users.getUser(user.id!);
    expect(plain).toMatchObject({ id: user.id, name: 'Gus Grouped', acdAutoAnswer: true, version: 2 });
    expect(plain).not.toHaveProperty('groups');
    expect(plain).not.toHaveProperty('locations');
    const listed = (await users.getUsers({ pageSize: 500 })).entities!.find((entry) => entry.id === user.id);
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty('groups');
    // The SDK sends `expand=groups&expand=locations`; each named field appears, the other stays out.
    expect(await users.getUser(user.id!, { expand: ['groups', 'locations'] })).toMatchObject({ groups, locations, acdAutoAnswer: true });
    const onlyGroups = await users.getUser(user.id!, { expand: ['groups'] });
    expect(onlyGroups).toMatchObject({ groups });
    expect(onlyGroups).not.toHaveProperty('locations');
    const listedExpanded = (await users.getUsers({ pageSize: 500, expand: ['locations'] })).entities!.find((entry) => entry.id === user.id);
    expect(listedExpanded).toMatchObject({ locations });
    expect(listedExpanded).not.toHaveProperty('groups');
  });
});

describe('the audit trail', () => {
  it('answers the realtime query with paged AuditLogMessages naming the user or the client', async () => {
    const schedule = await architect.postArchitectSchedules({ name: `audited-${Date.now()}`, start: '2026-01-01T08:00:00.000', end: '2026-01-01T18:00:00.000' });
    await architect.putArchitectSchedule(schedule.id!, { ...schedule, end: '2026-01-01T19:00:00.000' });
    await uiEdit(`/api/v2/architect/schedules/${schedule.id}`, { end: '2026-01-01T21:00:00.000' }, { user: 'Eve Admin' });
    await uiEdit(`/api/v2/architect/schedules/${schedule.id}`, { name: 'renamed by a script' }, { client: 'other-client' });
    const interval = `${new Date(Date.now() - 60_000).toISOString()}/${new Date(Date.now() + 60_000).toISOString()}`;
    const result = await audit.postAuditsQueryRealtime({
      interval,
      serviceName: 'Architect',
      filters: [{ property: 'EntityId', value: schedule.id! }],
      sort: [{ name: 'Timestamp', sortOrder: 'ascending' }],
      pageNumber: 1,
      pageSize: 2,
    });
    expect(result).toMatchObject({ pageNumber: 1, pageSize: 2, total: 4, pageCount: 2 });
    const second = await audit.postAuditsQueryRealtime({ interval, serviceName: 'Architect', filters: [{ property: 'EntityId', value: schedule.id! }], sort: [{ name: 'Timestamp', sortOrder: 'ascending' }], pageNumber: 2, pageSize: 2 });
    const entries = [...result.entities!, ...second.entities!];
    expect(entries.map((entry) => entry.action)).toEqual(['Create', 'Update', 'Update', 'Update']);
    expect(entries[1]).toMatchObject({ client: { id: CLIENT_ID }, entityType: 'Schedule', entity: { id: schedule.id } });
    expect(entries[1].user).toBeUndefined();
    expect(entries[1].propertyChanges).toEqual(
      expect.arrayContaining([
        { property: 'end', oldValues: ['2026-01-01T18:00:00.000'], newValues: ['2026-01-01T19:00:00.000'] },
        { property: 'version', oldValues: ['1'], newValues: ['2'] },
      ]),
    );
    expect(entries[2]).toMatchObject({ user: { name: 'Eve Admin' } });
    expect(entries[3]).toMatchObject({ client: { id: 'other-client' } });
    expect(entries[3].user).toBeUndefined();
  });

  it('refuses a realtime query older than 14 days, and answers it through the asynchronous query and its cursor', async () => {
    const queue = await routing.postRoutingQueues({ name: `old-${Date.now()}` });
    const old = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    await admin.admin('POST', '/audits', {
      entries: [20, 19, 18].map((days) => ({ path: `/api/v2/routing/queues/${queue.id}`, eventDate: old(days), user: 'Old Timer', propertyChanges: [] })),
    });
    const interval = `${old(21)}/${old(17)}`;
    const refused = await failure(() => audit.postAuditsQueryRealtime({ interval, serviceName: 'Routing' }));
    expect(refused.status).toBe(400);

    const started = await audit.postAuditsQuery({ interval, serviceName: 'Routing', filters: [{ property: 'EntityId', value: queue.id! }] });
    expect(started).toMatchObject({ id: expect.any(String), state: expect.stringMatching(/Queued|Running/) });
    let state = started.state;
    for (let i = 0; i < 50 && state !== 'Succeeded'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = (await audit.getAuditsQueryTransactionId(started.id!)).state;
    }
    expect(state).toBe('Succeeded');
    const first = await audit.getAuditsQueryTransactionIdResults(started.id!, { pageSize: 2 });
    expect(first.entities).toHaveLength(2);
    expect(first.cursor).toEqual(expect.any(String));
    const rest = await audit.getAuditsQueryTransactionIdResults(started.id!, { pageSize: 2, cursor: first.cursor });
    expect(rest.entities).toHaveLength(1);
    expect(rest.cursor).toBeUndefined();
    expect([...first.entities!, ...rest.entities!].map((entry) => entry.user?.name)).toEqual(['Old Timer', 'Old Timer', 'Old Timer']);
  });
});

describe('notification channels', () => {
  it('creates a channel, subscribes an audit topic, and pushes a UI edit over the WebSocket', async () => {
    const group = await architect.postArchitectEmergencygroups({ name: `pushed-${Date.now()}`, enabled: false });
    const channel = await notifications.postNotificationsChannels();
    expect(channel).toMatchObject({ id: expect.any(String), connectUri: expect.stringMatching(/^ws:\/\//), expires: expect.any(String) });
    const topic = `v2.audits.entitytype.EmergencyGroup.entityid.${group.id}`;
    const subscribed = await notifications.putNotificationsChannelSubscriptions(channel.id!, [{ id: topic }]);
    expect(subscribed.entities).toEqual([expect.objectContaining({ id: topic })]);
    expect((await notifications.getNotificationsChannelSubscriptions(channel.id!)).entities).toEqual([expect.objectContaining({ id: topic })]);

    const socket = new WebSocket(channel.connectUri!);
    const received: { topicName: string; eventBody: Record<string, unknown> }[] = [];
    socket.on('message', (data) => received.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    try {
      await uiEdit(`/api/v2/architect/emergencygroups/${group.id}`, { enabled: true }, { user: 'Night Shift' });
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(received[0]).toMatchObject({
        topicName: topic,
        eventBody: { entityType: 'EmergencyGroup', entity: { id: group.id }, action: 'Update', userDisplay: 'Night Shift', eventTime: expect.any(String) },
      });
    } finally {
      socket.close();
    }
  });

  it('refuses a wildcard topic and more topics than a channel takes', async () => {
    const channel = await notifications.postNotificationsChannels();
    const wildcard = await failure(() => notifications.putNotificationsChannelSubscriptions(channel.id!, [{ id: 'v2.audits.entitytype.*.entityid.*' }]));
    expect(wildcard.status).toBe(400);
    const many = Array.from({ length: 1001 }, (_, i) => ({ id: `v2.audits.entitytype.Queue.entityid.q${i}` }));
    const tooMany = await failure(() => notifications.putNotificationsChannelSubscriptions(channel.id!, many));
    expect(tooMany.status).toBe(400);
  });
});

describe('the request budget', () => {
  it('answers past the per-token budget with the normalised 429 and Retry-After, and logs every request', async () => {
    await admin.admin('POST', '/settings', { rateLimits: { perTokenPerMinute: 5 } });
    try {
      const fresh = new platformClient.ApiClientClass();
      (fresh as unknown as { config: { live_reload_config: boolean } }).config.live_reload_config = false;
      fresh.setGateway({ host: '127.0.0.1', protocol: 'http', port: emulator.port });
      const { accessToken } = await fresh.loginClientCredentialsGrant(CLIENT_ID, CLIENT_SECRET);
      const call = () => fetch(`${emulator.url}/api/v2/routing/queues`, { headers: { Authorization: `Bearer ${accessToken}` } });
      for (let i = 0; i < 5; i++) expect((await call()).status).toBe(200);
      const limited = await call();
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await limited.json()).toMatchObject({ status: 429, code: 'too.many.requests.retry.after', message: expect.stringContaining('Retry the request in') });
      const log = (await admin.admin<{ tokens: { admitted: number; rejected: number; peak: number }[]; tooManyRequests: number }>('GET', '/requests')).body;
      expect(log.tokens.some((token) => token.admitted === 5 && token.rejected === 1 && token.peak === 5)).toBe(true);
      expect(log.tooManyRequests).toBeGreaterThanOrEqual(1);
    } finally {
      await admin.admin('POST', '/settings', { rateLimits: { perTokenPerMinute: 300 } });
    }
  });
});
