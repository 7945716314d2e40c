/** The emulator's OAuth client-credentials endpoints and token checks. */
import { startEmulator } from '../emulator';
import { emulatorClient, waitFor } from '../emulator/testing';
import { useEmulator } from './fixtures';

describe('Genesys Cloud emulator: OAuth client credentials', () => {
  const { emulator, client } = useEmulator();

  beforeEach(() => client.admin('POST', '/reset'));

  it("issues a bearer token at the seed's /api/v2/oauth/token for form-encoded client credentials", async () => {
    const response = await fetch(`${emulator.url}/api/v2/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'tollgate-sandbox', client_secret: 'sandbox-secret' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 3600 });

    const read = await client.api('GET', '/api/v2/configuration', undefined, body.access_token as string);
    expect(read.status).toBe(200);
  });

  it('accepts HTTP Basic client authentication with a JSON body at /oauth/token', async () => {
    const response = await client.call('POST', '/oauth/token', { grant_type: 'client_credentials' }, {
      Authorization: `Basic ${Buffer.from('tollgate-sandbox:sandbox-secret').toString('base64')}`,
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ token_type: 'bearer' });
  });

  it('refuses an unknown client, or a known client with the wrong secret, with 401 invalid_client', async () => {
    const unknown = await client.call('POST', '/oauth/token', { grant_type: 'client_credentials', client_id: 'intruder', client_secret: 'x' });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toMatchObject({ error: 'invalid_client' });

    const wrongSecret = await client.call('POST', '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'tollgate-sandbox',
      client_secret: 'sandbox-secreT',
    });
    expect(wrongSecret.status).toBe(401);
  });

  it('refuses grant types other than client_credentials', async () => {
    const response = await client.call('POST', '/oauth/token', { grant_type: 'password', client_id: 'tollgate-sandbox', client_secret: 'sandbox-secret' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('answers 401 to an API call with a missing or unknown token', async () => {
    expect((await client.call('GET', '/api/v2/configuration')).status).toBe(401);
    expect((await client.api('GET', '/api/v2/configuration', undefined, 'not-a-token')).status).toBe(401);
  });

  it('lets a token expire after its lifetime (change-gate Edge Case 2: token expiry during deployment)', async () => {
    await client.admin('POST', '/settings', { tokenTtlSeconds: 1 });
    const issued = await client.call<{ access_token: string; expires_in: number }>('POST', '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'tollgate-sandbox',
      client_secret: 'sandbox-secret',
    });
    expect(issued.body.expires_in).toBe(1);
    const token = issued.body.access_token;
    expect((await client.api('GET', '/api/v2/configuration', undefined, token)).status).toBe(200);

    const expired = await waitFor(
      async () => {
        const response = await client.api('GET', '/api/v2/configuration', undefined, token);
        return response.status === 401 ? response : undefined;
      },
      { timeoutMs: 3_000, what: 'the 1-second token to expire' },
    );
    expect(expired.body).toMatchObject({ status: 401, code: 'credentials.expired' });
    expect((await client.api('GET', '/api/v2/configuration', undefined, await client.token())).status).toBe(200);
  });

  it('expires every issued token at once through /__emulator/tokens/expire', async () => {
    const first = await client.token();
    const second = await client.token();
    const expiry = await client.admin<{ expired: number }>('POST', '/tokens/expire');
    expect(expiry.body.expired).toBe(2);
    expect((await client.api('GET', '/api/v2/configuration', undefined, first)).status).toBe(401);
    expect((await client.api('GET', '/api/v2/configuration', undefined, second)).status).toBe(401);
  });

  it('returns to its start-up settings and forgets its tokens on reset', async () => {
    await client.admin('POST', '/settings', { tokenTtlSeconds: 1 });
    const token = await client.token();
    await client.admin('POST', '/reset');
    expect((await client.api('GET', '/api/v2/configuration', undefined, token)).status).toBe(401);
    const issued = await client.call<{ expires_in: number }>('POST', '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'tollgate-sandbox',
      client_secret: 'sandbox-secret',
    });
    expect(issued.body.expires_in).toBe(3600);
  });

  it('accepts the clients it was started with', async () => {
    const custom = await startEmulator({ port: 0, settings: { clients: { 'ci-deployer': 'ci:secret' }, tokenTtlSeconds: 60 } });
    try {
      const customClient = emulatorClient(custom.url);
      await expect(customClient.token('ci-deployer', 'ci:secret')).resolves.toEqual(expect.any(String));
      await expect(customClient.token()).rejects.toThrow('401');
    } finally {
      await custom.close();
    }
  });
});
