/**
 * The emulator's configuration objects over HTTP: versions, the seed's `version = current + 1` rule, 409s, the paged
 * change list.
 */
import { useEmulator } from './fixtures';

interface WireObject {
  id: string;
  type: string;
  version: number;
  lastModifiedTime: string;
  modifiedBy: { kind: string; id: string };
  [field: string]: unknown;
}

interface ChangesPage {
  entities: WireObject[];
  pageSize: number;
  pageNumber: number;
  total: number;
  pageCount: number;
}

describe('Genesys Cloud emulator: configuration objects', () => {
  const { client } = useEmulator();

  beforeEach(async () => {
    await client.admin('POST', '/reset');
    await client.admin('PUT', '/objects/ivr/main-menu', { version: 9, greeting: 'Welcome', timeoutSeconds: 5 });
  });

  it('reads an object with its metadata and its fields at the top level', async () => {
    const read = await client.api<WireObject>('GET', '/api/v2/configuration/ivr/main-menu');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      id: 'main-menu',
      type: 'ivr',
      version: 9,
      lastModifiedTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      modifiedBy: { kind: 'user', id: expect.any(String) },
      greeting: 'Welcome',
      timeoutSeconds: 5,
    });
  });

  it('answers 404 for an object that does not exist, on read and on write', async () => {
    expect((await client.api('GET', '/api/v2/configuration/ivr/nope')).status).toBe(404);
    expect((await client.api('PUT', '/api/v2/configuration/ivr/nope', { version: 1, greeting: 'x' })).status).toBe(404);
  });

  it("accepts a write with version current + 1 (the seed's rule) and records the client as modifier", async () => {
    const written = await client.api<WireObject>('PUT', '/api/v2/configuration/ivr/main-menu', { version: 10, greeting: 'Hello' });
    expect(written.status).toBe(200);
    expect(written.body).toMatchObject({ version: 10, greeting: 'Hello', modifiedBy: { kind: 'client', id: 'tollgate-sandbox' } });
    // A write replaces all fields: timeoutSeconds was not sent, so it is gone.
    expect(written.body).not.toHaveProperty('timeoutSeconds');
    const read = await client.api<WireObject>('GET', '/api/v2/configuration/ivr/main-menu');
    expect(read.body).toEqual(written.body);
  });

  it('refuses a stale version with 409 and the current version (change-gate trap "Version Control Ignorance")', async () => {
    for (const version of [9, 8, 11]) {
      const conflict = await client.api('PUT', '/api/v2/configuration/ivr/main-menu', { version, greeting: 'Stale' });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({ code: 'conflict', message: expect.any(String), currentVersion: 9 });
    }
    const unchanged = await client.api<WireObject>('GET', '/api/v2/configuration/ivr/main-menu');
    expect(unchanged.body).toMatchObject({ version: 9, greeting: 'Welcome' });
  });

  it("lets only one of two writers that read the same version win (change-gate Edge Case 1)", async () => {
    const [a, b] = await Promise.all([
      client.api('PUT', '/api/v2/configuration/ivr/main-menu', { version: 10, greeting: 'A' }),
      client.api('PUT', '/api/v2/configuration/ivr/main-menu', { version: 10, greeting: 'B' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
  });

  it("writes through the seed's POST /api/v2/configuration with { type, id, version, ...fields }", async () => {
    const written = await client.api<WireObject>('POST', '/api/v2/configuration', { type: 'ivr', id: 'main-menu', version: 10, greeting: 'Posted' });
    expect(written.status).toBe(200);
    expect(written.body).toMatchObject({ id: 'main-menu', type: 'ivr', version: 10, greeting: 'Posted' });
    const stale = await client.api('POST', '/api/v2/configuration', { type: 'ivr', id: 'main-menu', version: 10, greeting: 'Again' });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ currentVersion: 10 });
  });

  it('ignores the metadata a client echoes back from a read-modify-write', async () => {
    const read = await client.api<WireObject>('GET', '/api/v2/configuration/ivr/main-menu');
    const written = await client.api<WireObject>('PUT', '/api/v2/configuration/ivr/main-menu', {
      ...read.body,
      version: read.body.version + 1,
      greeting: 'Merged',
    });
    expect(written.status).toBe(200);
    expect(written.body).toMatchObject({ version: 10, greeting: 'Merged', timeoutSeconds: 5, modifiedBy: { kind: 'client' } });
  });

  it("applies the Genesys-native 'current' version rule per type: send the current version, the server increments", async () => {
    await client.admin('PUT', '/types/queue', { versionRule: 'current' });
    await client.admin('PUT', '/objects/queue/support', { version: 3, name: 'Support' });

    const plusOne = await client.api('PUT', '/api/v2/configuration/queue/support', { version: 4, name: 'Support+' });
    expect(plusOne.status).toBe(409);
    expect(plusOne.body).toMatchObject({ currentVersion: 3 });

    const current = await client.api<WireObject>('PUT', '/api/v2/configuration/queue/support', { version: 3, name: 'Support 2' });
    expect(current.status).toBe(200);
    expect(current.body.version).toBe(4);

    // Other types keep the seed's rule.
    expect((await client.api('PUT', '/api/v2/configuration/ivr/main-menu', { version: 10 })).status).toBe(200);
    const state = await client.admin<{ types: Record<string, string> }>('GET', '/state');
    expect(state.body.types).toEqual({ queue: 'current' });
  });

  it('pages the objects changed at or after a time, oldest first (change-gate Edge Case 3 polling)', async () => {
    const since = Date.parse('2024-03-01T00:00:00.000Z');
    await client.admin('PUT', '/objects/ivr/older', { lastModifiedTime: '2024-02-29T23:59:59.999Z', note: 'before' });
    // Seeded newest first, so the order of the answer comes from lastModifiedTime, not from insertion.
    for (let index = 6; index >= 0; index -= 1) {
      await client.admin('PUT', `/objects/flow/f${index}`, { lastModifiedTime: new Date(since + index * 60_000).toISOString() });
    }
    await client.admin('PUT', '/objects/ivr/main-menu', { version: 9, lastModifiedTime: '2020-01-01T00:00:00Z' });

    const pages: ChangesPage[] = [];
    for (let pageNumber = 1; pageNumber <= 3; pageNumber += 1) {
      const page = await client.api<ChangesPage>('GET', `/api/v2/configuration?lastModifiedTime=2024-03-01T00:00:00Z&pageSize=3&pageNumber=${pageNumber}`);
      expect(page.status).toBe(200);
      pages.push(page.body);
    }
    expect(pages.map((page) => page.entities.length)).toEqual([3, 3, 1]);
    expect(pages[0]).toMatchObject({ pageSize: 3, pageNumber: 1, total: 7, pageCount: 3 });
    expect(pages.flatMap((page) => page.entities.map((entity) => entity.id))).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6']);

    const beyond = await client.api<ChangesPage>('GET', '/api/v2/configuration?lastModifiedTime=2024-03-01T00:00:00Z&pageSize=3&pageNumber=4');
    expect(beyond.body.entities).toEqual([]);
  });

  it('defaults pageSize to 25 and refuses a page size above 500 or an unreadable time', async () => {
    const page = await client.api<ChangesPage>('GET', '/api/v2/configuration');
    expect(page.body).toMatchObject({ pageSize: 25, pageNumber: 1, total: 1, pageCount: 1 });
    expect((await client.api('GET', '/api/v2/configuration?pageSize=501')).status).toBe(400);
    expect((await client.api('GET', '/api/v2/configuration?lastModifiedTime=yesterday')).status).toBe(400);
  });

  it('refuses a write without a numeric version as a bad request', async () => {
    const response = await client.api('PUT', '/api/v2/configuration/ivr/main-menu', { greeting: 'No version' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'bad.request' });
  });
});
