/**
 * The emulator playing GitHub for the change gate: its REST routes behind a token, read through the worker's own
 * client (github/client.ts, Octokit), pagination included, and the signed webhooks its admin routes send.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GitHubAccessError, GitHubClient } from '../github/client';
import { useEmulator } from './fixtures';
import { eventually } from './harness/stack';

const TOKEN = 'the-workers-token';
const { emulator } = useEmulator({ githubToken: TOKEN });
const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const response = await fetch(`${emulator.url}/__emulator/github${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
};

it('answers the worker with its token, and 401 without it', async () => {
  const opened = await admin<{ number: number; headSha: string }>('POST', '/repos/Acme/Config/pulls', { author: 'Alice', files: { 'genesys/ivr/main.json': '{"greeting":"hi"}\n' } });
  const client = new GitHubClient({ apiUrl: `${emulator.url}/github`, token: TOKEN });
  expect(await client.pullRequest('acme/config', opened.number)).toMatchObject({ number: opened.number, state: 'open', author: 'alice', headSha: opened.headSha });
  expect(await client.fileAt('acme/config', 'genesys/ivr/main.json', opened.headSha)).toBe('{"greeting":"hi"}\n');
  expect(await client.fileAt('acme/config', 'genesys/ivr/other.json', opened.headSha)).toBeUndefined();
  expect(await client.fileAt('other/repo', 'genesys/ivr/main.json', opened.headSha)).toBeUndefined();
  expect(await client.pullRequest('acme/config', 999)).toBeUndefined();
  await expect(new GitHubClient({ apiUrl: `${emulator.url}/github`, token: 'wrong' }).pullRequest('acme/config', opened.number)).rejects.toBeInstanceOf(GitHubAccessError);
  const raw = await fetch(`${emulator.url}/github/repos/acme/config/pulls/${opened.number}`);
  expect(raw.status).toBe(401);
  expect(await raw.json()).toMatchObject({ message: 'Bad credentials' });
});

it('pages the reviews as GitHub does, and the client reads every page', async () => {
  const opened = await admin<{ number: number; headSha: string }>('POST', '/repos/acme/paged/pulls', { author: 'alice', files: { 'a.json': '{}' } });
  for (let i = 0; i < 130; i++) await admin('POST', `/repos/acme/paged/pulls/${opened.number}/reviews`, { user: `user${i}`, state: 'COMMENTED' });
  const firstPage = await fetch(`${emulator.url}/github/repos/acme/paged/pulls/${opened.number}/reviews?per_page=100`, { headers: { authorization: `token ${TOKEN}` } });
  expect(firstPage.headers.get('link')).toMatch(/page=2>; rel="next"/);
  const reviews = await new GitHubClient({ apiUrl: `${emulator.url}/github`, token: TOKEN }).reviews('acme/paged', opened.number);
  expect(reviews).toHaveLength(130);
  expect(reviews[129]).toMatchObject({ login: 'user129', state: 'COMMENTED', commitId: opened.headSha });
});

it('sends pull_request_review and pull_request webhooks signed with X-Hub-Signature-256', async () => {
  const received: Array<{ event: string; signature: string; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ event: String(req.headers['x-github-event']), signature: String(req.headers['x-hub-signature-256']), body });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await admin('POST', '/hooks', { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, secret: 'hook-secret' });
    const opened = await admin<{ number: number }>('POST', '/repos/acme/hooks/pulls', { author: 'alice', files: { 'a.json': '{}' } });
    const review = await admin<{ id: number }>('POST', `/repos/acme/hooks/pulls/${opened.number}/reviews`, { user: 'bob', state: 'APPROVED' });
    await admin('POST', `/repos/acme/hooks/pulls/${opened.number}/reviews/${review.id}/dismiss`, {});
    await eventually('three webhooks', async () => received.length >= 3);
    expect(received.map((hook) => `${hook.event}.${JSON.parse(hook.body).action}`)).toEqual(['pull_request.opened', 'pull_request_review.submitted', 'pull_request_review.dismissed']);
    for (const hook of received) expect(hook.signature).toBe(`sha256=${createHmac('sha256', 'hook-secret').update(hook.body).digest('hex')}`);
    expect(JSON.parse(received[1].body)).toMatchObject({ review: { state: 'approved', user: { login: 'bob' } }, pull_request: { number: opened.number }, repository: { full_name: 'acme/hooks' } });
  } finally {
    await admin('DELETE', '/hooks');
    await new Promise((resolve) => server.close(resolve));
  }
});
