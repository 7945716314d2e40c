/**
 * Jira Cloud's REST API v3, the calls the change tickets need and nothing else: create an issue, read its status,
 * comment (with an issue-comment property that names the Tollgate event, so a retried delivery can find its own
 * comment), list comments, list and perform transitions, and find issues by label with JQL
 * (`/rest/api/3/search/jql`, the search endpoint that replaced `/search`). HTTP Basic auth with the user's email and
 * an API token (TOLLGATE_JIRA_API_TOKEN[_FILE]); the token never appears in a log or an error.
 *
 * Errors say whether the request reached Jira and was refused (a 4xx: nothing happened), was throttled (429, with
 * its Retry-After), or may or may not have been applied (a 5xx, a timeout, a reset connection).
 */
import { request } from 'undici';
import { z } from 'zod';
import { parseRetryAfter } from '../outbound/event-sink';
import type { AdfDoc } from './adf';

export interface JiraClientOptions {
  url: string;
  user: string;
  apiToken: string;
  timeoutMs: number;
}

export class JiraError extends Error {
  constructor(
    message: string,
    /** The HTTP status Jira answered; undefined when no answer came (timeout, reset, DNS). */
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'JiraError';
  }

  /** Jira answered with a refusal: the request was not applied. */
  get notApplied(): boolean {
    return this.status !== undefined && this.status < 500;
  }

  /** A refusal that sending it again cannot change (a 4xx other than auth and throttling). */
  get refused(): boolean {
    return this.status !== undefined && this.status >= 400 && this.status < 500 && ![401, 403, 408, 429].includes(this.status);
  }
}

const IssueCreated = z.object({ id: z.string(), key: z.string() });
const IssueRead = z.object({
  id: z.string(),
  key: z.string(),
  fields: z.looseObject({
    status: z.object({ name: z.string(), statusCategory: z.object({ key: z.string() }).optional() }).optional(),
    labels: z.array(z.string()).optional(),
  }),
});
const Transitions = z.object({ transitions: z.array(z.object({ id: z.string(), name: z.string(), to: z.object({ name: z.string() }).optional() })) });
const CommentPage = z.object({
  startAt: z.number(),
  total: z.number(),
  comments: z.array(z.object({ id: z.string(), created: z.string().optional(), properties: z.array(z.object({ key: z.string(), value: z.unknown() })).optional() })),
});
const SearchResult = z.object({ issues: z.array(z.object({ id: z.string(), key: z.string() })) });

export interface JiraIssueFields {
  project: { key: string };
  issuetype: { name: string };
  summary: string;
  description: AdfDoc;
  labels: string[];
}

export interface JiraCommentProperty {
  key: string;
  value: unknown;
}

export class JiraClient {
  private readonly authorization: string;
  readonly baseUrl: string;

  constructor(private readonly options: JiraClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.authorization = `Basic ${Buffer.from(`${options.user}:${options.apiToken}`).toString('base64')}`;
  }

  /** The issue's page in Jira's web UI. */
  browseUrl(key: string): string {
    return `${this.baseUrl}/browse/${encodeURIComponent(key)}`;
  }

  async createIssue(fields: JiraIssueFields, signal?: AbortSignal): Promise<{ id: string; key: string }> {
    return this.call('POST', '/rest/api/3/issue', IssueCreated, { fields }, signal);
  }

  /** The issue's status and its category (`new`, `indeterminate`, `done`: a `done` status is closed). */
  async issueStatus(key: string, signal?: AbortSignal): Promise<{ name: string; category?: string } | undefined> {
    const issue = await this.call('GET', `/rest/api/3/issue/${encodeURIComponent(key)}?fields=status`, IssueRead, undefined, signal);
    const status = issue.fields.status;
    return status ? { name: status.name, ...(status.statusCategory ? { category: status.statusCategory.key } : {}) } : undefined;
  }

  async addComment(key: string, body: AdfDoc, properties: JiraCommentProperty[], signal?: AbortSignal): Promise<void> {
    await this.call('POST', `/rest/api/3/issue/${encodeURIComponent(key)}/comment`, z.unknown(), { body, properties }, signal);
  }

  /** Every comment of the issue with its properties, oldest first. */
  async comments(key: string, signal?: AbortSignal): Promise<Array<{ id: string; properties: JiraCommentProperty[] }>> {
    const all: Array<{ id: string; properties: JiraCommentProperty[] }> = [];
    for (let startAt = 0; ; ) {
      const page = await this.call(
        'GET',
        `/rest/api/3/issue/${encodeURIComponent(key)}/comment?startAt=${startAt}&maxResults=100&orderBy=created&expand=properties`,
        CommentPage,
        undefined,
        signal,
      );
      all.push(...page.comments.map((comment) => ({ id: comment.id, properties: comment.properties ?? [] })));
      startAt += page.comments.length;
      if (page.comments.length === 0 || startAt >= page.total) return all;
    }
  }

  async transitions(key: string, signal?: AbortSignal): Promise<Array<{ id: string; name: string; to?: string }>> {
    const answer = await this.call('GET', `/rest/api/3/issue/${encodeURIComponent(key)}/transitions`, Transitions, undefined, signal);
    return answer.transitions.map((transition) => ({ id: transition.id, name: transition.name, ...(transition.to ? { to: transition.to.name } : {}) }));
  }

  async transition(key: string, transitionId: string, signal?: AbortSignal): Promise<void> {
    await this.call('POST', `/rest/api/3/issue/${encodeURIComponent(key)}/transitions`, z.unknown(), { transition: { id: transitionId } }, signal);
  }

  /** Issues of `project` carrying `label`, oldest first. Jira's search index trails its writes by a little. */
  async issuesWithLabel(project: string, label: string, signal?: AbortSignal): Promise<Array<{ id: string; key: string }>> {
    const jql = `project = "${project}" AND labels = "${label.replace(/["\\]/g, '\\$&')}" ORDER BY created ASC`;
    const answer = await this.call('POST', '/rest/api/3/search/jql', SearchResult, { jql, fields: ['summary'], maxResults: 50 }, signal);
    return answer.issues.sort((a, b) => Number(a.id) - Number(b.id));
  }

  private async call<S extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: S, body: unknown, signal?: AbortSignal): Promise<z.infer<S>> {
    const what = `Jira ${method} ${path.split('?')[0]}`;
    let response;
    try {
      response = await request(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: this.authorization,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new JiraError(`${what}: no answer (${(error as Error).message})`);
    }
    const text = await response.body.text().catch(() => '');
    if (response.statusCode >= 300) {
      throw new JiraError(`${what} answered ${response.statusCode}${jiraMessages(text)}`, response.statusCode, parseRetryAfter(response.headers['retry-after']));
    }
    let parsed: unknown;
    try {
      parsed = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      throw new JiraError(`${what}: the answer is not JSON`, response.statusCode);
    }
    const result = schema.safeParse(parsed);
    if (!result.success) throw new JiraError(`${what}: unexpected answer (${z.prettifyError(result.error)})`, response.statusCode);
    return result.data;
  }
}

/** `: message; field: message` from Jira's `{ errorMessages, errors }` body, for the log and the cursor's last error. */
function jiraMessages(text: string): string {
  try {
    const body = JSON.parse(text) as { errorMessages?: unknown; errors?: unknown };
    const messages = [
      ...(Array.isArray(body.errorMessages) ? body.errorMessages.map(String) : []),
      ...(body.errors && typeof body.errors === 'object' ? Object.entries(body.errors as Record<string, unknown>).map(([field, message]) => `${field}: ${String(message)}`) : []),
    ];
    return messages.length > 0 ? `: ${messages.join('; ').slice(0, 500)}` : '';
  } catch {
    return '';
  }
}
