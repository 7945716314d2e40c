/**
 * The Genesys Cloud Platform API, as Tollgate uses it. Every call Tollgate makes to Genesys Cloud goes through here:
 * one token cache (genesys/token.ts), one transport with its waits (genesys/http.ts), one mapping from HTTP answers
 * to named errors (genesys/errors.ts), and one zod schema per answer (genesys/schemas.ts).
 *
 * The rate limit (about 300 requests a minute per client-credentials token) is held across every worker process by
 * the shared request budget (genesys/request-budget.ts): each API request takes a permit before it is sent.
 */
import type { z } from 'zod';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import { noteCorrelationId } from './correlation';
import {
  GenesysAuthError,
  GenesysConflictError,
  GenesysError,
  GenesysNotFoundError,
  GenesysProtocolError,
  GenesysServerError,
} from './errors';
import { GenesysTransport, type Exchange, type RawResponse } from './http';
import type { RequestBudget } from './request-budget';
import {
  ConfigChangesPageSchema,
  ConfigObjectSchema,
  ConflictBodySchema,
  InstallationListSchema,
  IntegrationWebhooksRequestSchema,
  IntegrationWebhooksSchema,
  TokenResponseSchema,
  WebhookSubscriptionRequestSchema,
  WebhookSubscriptionSchema,
  type ConfigObject,
  type GenesysInstallation,
  type IntegrationWebhooks,
  type IntegrationWebhooksRequest,
  type TokenResponse,
  type WebhookSubscription,
  type WebhookSubscriptionRequest,
} from './schemas';
import { AccessTokenCache } from './token';

export { objectFields } from './schemas';
export type { ConfigObject, GenesysInstallation, IntegrationWebhooksRequest, WebhookSubscriptionRequest } from './schemas';

/** What the client needs of the Genesys settings (the rest — budgets, region — is read by its callers). */
export type GenesysConfig = Pick<Config['genesys'], 'apiBase' | 'loginBase' | 'clientId' | 'clientSecret' | 'timeoutMs'> & Partial<Config['genesys']>;

export interface GenesysClientDeps {
  logger: Logger;
  /** The request budget shared by every worker process (genesys/request-budget.ts); none: unbudgeted (test tools). */
  budget?: RequestBudget;
  /** Clock for token expiry and Retry-After dates; tests may pass their own. */
  now?: () => number;
}

/** The body of a write: the version to send (the caller applies the target type's version rule) and the fields. */
export interface WriteObjectBody {
  version: number;
  [field: string]: unknown;
}

/** The 400 variant of a version conflict ("… does not match the current version …"). */
const VERSION_MISMATCH_400 = /does not match the current version/i;

/** Upper bound on pages followed by listChangesSince: a server that never stops paging is a protocol error. */
const MAX_PAGES = 10_000;

type Method = Exchange['method'];

export class GenesysClient {
  private readonly transport: GenesysTransport;
  private readonly tokens: AccessTokenCache;
  private readonly logger: Logger;
  private readonly apiBase: string;
  private readonly loginBase: string;
  private readonly budget: RequestBudget | undefined;

  constructor(
    private readonly config: GenesysConfig,
    deps: GenesysClientDeps,
  ) {
    const now = deps.now ?? Date.now;
    this.logger = deps.logger.child({ component: 'genesys' });
    this.budget = deps.budget;
    this.apiBase = config.apiBase.replace(/\/+$/, '');
    this.loginBase = config.loginBase.replace(/\/+$/, '');
    this.transport = new GenesysTransport({ timeoutMs: config.timeoutMs, logger: this.logger, now });
    this.tokens = new AccessTokenCache(() => this.requestToken(), now);
  }

  /** `GET /api/v2/configuration/{type}/{id}`; 404 → GenesysNotFoundError. */
  async getObject(type: string, id: string): Promise<ConfigObject> {
    const path = `/api/v2/configuration/${seg(type)}/${seg(id)}`;
    return this.call('GET', path, ConfigObjectSchema);
  }

  /**
   * `PUT /api/v2/configuration/{type}/{id}` with `{ version, ...fields }`, replacing the object's fields.
   * 409 → GenesysConflictError (with `currentVersion`); no answer → GenesysNetworkError with `outcomeUnknown`,
   * never re-sent here.
   */
  async writeObject(type: string, id: string, body: WriteObjectBody): Promise<ConfigObject> {
    const path = `/api/v2/configuration/${seg(type)}/${seg(id)}`;
    return this.call('PUT', path, ConfigObjectSchema, body);
  }

  /**
   * Every object changed at or after `since`, oldest first, following all pages of
   * `GET /api/v2/configuration?lastModifiedTime=…` (seed Edge Case 3, the heartbeat's poll). An object that changes
   * again while the pages are read can appear twice (id + version dedupes it) and can push a neighbour across a
   * page boundary; the heartbeat's overlapping look-back window picks such a neighbour up on its next run.
   */
  async listChangesSince(since: Date, pageSize = 100): Promise<ConfigObject[]> {
    const seen = new Set<string>();
    const changes: ConfigObject[] = [];
    for (let pageNumber = 1; pageNumber <= MAX_PAGES; pageNumber++) {
      const query = new URLSearchParams({ lastModifiedTime: since.toISOString(), pageSize: String(pageSize), pageNumber: String(pageNumber) });
      const page = await this.call('GET', `/api/v2/configuration?${query.toString()}`, ConfigChangesPageSchema);
      for (const entity of page.entities) {
        const key = `${entity.type}\u0000${entity.id}\u0000${entity.version}`;
        if (seen.has(key)) continue;
        seen.add(key);
        changes.push(entity);
      }
      if (page.entities.length === 0 || pageNumber >= page.pageCount) return changes;
    }
    throw new GenesysProtocolError(`listChangesSince: more than ${MAX_PAGES} pages`, { path: '/api/v2/configuration' });
  }

  /** `GET /api/v2/integrations/{id}/installations`: what Genesys Cloud says is installed (reconciliation). */
  async listInstallations(integrationId: string): Promise<GenesysInstallation[]> {
    const list = await this.call('GET', `/api/v2/integrations/${seg(integrationId)}/installations`, InstallationListSchema);
    return list.entities;
  }

  /** `DELETE /api/v2/integrations/{integrationId}/orgs/{orgId}/tokens`; nothing to revoke (404) counts as done. */
  async revokeIntegrationTokens(integrationId: string, orgId: string): Promise<'revoked' | 'already_gone'> {
    try {
      await this.call('DELETE', `/api/v2/integrations/${seg(integrationId)}/orgs/${seg(orgId)}/tokens`, null);
      return 'revoked';
    } catch (error) {
      if (error instanceof GenesysNotFoundError) return 'already_gone';
      throw error;
    }
  }

  /** `POST /api/v2/webhooks/webhooks` (the config-audit seed's body, plus an optional signing `secret`). */
  async createWebhookSubscription(body: WebhookSubscriptionRequest): Promise<WebhookSubscription> {
    const valid = parseRequest(WebhookSubscriptionRequestSchema, body, 'createWebhookSubscription');
    return this.call('POST', '/api/v2/webhooks/webhooks', WebhookSubscriptionSchema, valid);
  }

  /** `PUT /api/v2/integrations/{id}/webhooks` (the lifecycle seed's body: url, events, retry policy, timeout, secret). */
  async putIntegrationWebhooks(integrationId: string, body: IntegrationWebhooksRequest): Promise<IntegrationWebhooks> {
    const valid = parseRequest(IntegrationWebhooksRequestSchema, body, 'putIntegrationWebhooks');
    return this.call('PUT', `/api/v2/integrations/${seg(integrationId)}/webhooks`, IntegrationWebhooksSchema, valid);
  }

  /**
   * Any Platform API call, answered through the same token, budget and error mapping as every other: the target
   * adapters (genesys/adapters/), the audit queries and the notification channels use it. `schema: null` for an
   * answer without a body.
   */
  async request<S extends z.ZodType>(method: Method, path: string, schema: S, body?: unknown): Promise<z.infer<S>>;
  async request(method: Method, path: string, schema: null, body?: unknown): Promise<undefined>;
  async request(method: Method, path: string, schema: z.ZodType | null, body?: unknown): Promise<unknown> {
    return this.call(method, path, schema as z.ZodType, body);
  }

  /** Closes the keep-alive connections. */
  async close(): Promise<void> {
    await this.transport.close();
  }

  /**
   * One API call with a bearer token. A 401 means the token died early (revoked, clock skew, server restart):
   * drop it, get a fresh one, try once more; a second 401 is a real authorization problem.
   */
  private async call<S extends z.ZodType>(method: Method, path: string, schema: S, body?: unknown): Promise<z.infer<S>>;
  private async call(method: Method, path: string, schema: null, body?: unknown): Promise<undefined>;
  private async call(method: Method, path: string, schema: z.ZodType | null, body?: unknown): Promise<unknown> {
    const bare = path.split('?')[0];
    for (let attempt = 1; ; attempt++) {
      const token = await this.tokens.get();
      const response = await this.transport.send({
        method,
        url: `${this.apiBase}${path}`,
        path: bare,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        safe: method === 'GET' || method === 'HEAD',
        ...(this.budget ? { permit: () => this.budget!.take(method, bare) } : {}),
      });
      noteCorrelationId(response.headers);
      if (response.status === 401) {
        this.tokens.invalidate(token);
        if (attempt < 2) {
          this.logger.info({ method, path: bare }, 'genesys answered 401; refreshing the token once');
          continue;
        }
        throw new GenesysAuthError(`${method} ${bare}: unauthorized (401) with a freshly issued token`, { method, path: bare, status: 401 });
      }
      return this.interpret(method, bare, response, schema);
    }
  }

  /** The one place where an API answer becomes a value or a named error. */
  private interpret(method: Method, path: string, response: RawResponse, schema: z.ZodType | null): unknown {
    const where = { method, path, status: response.status };
    const { status } = response;
    if (status >= 200 && status < 300) {
      if (schema === null) return undefined;
      const json = parseJson(response.text);
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        throw new GenesysProtocolError(`${method} ${path}: unexpected response shape (${summarizeIssues(parsed.error)})`, where);
      }
      return parsed.data;
    }
    const detail = errorDetail(response.text);
    if (status === 404) throw new GenesysNotFoundError(`${method} ${path}: not found (404)${detail}`, where);
    // Some Genesys services answer a stale version with 400 and a message saying so rather than 409; the CX as Code
    // provider treats both as a version conflict, and so do we.
    if (status === 400 && VERSION_MISMATCH_400.test(errorMessage(response.text))) {
      throw new GenesysConflictError(`${method} ${path}: version conflict (400)${detail}`, undefined, { ...where });
    }
    if (status === 409) {
      const conflict = ConflictBodySchema.safeParse(parseJson(response.text));
      const currentVersion = conflict.success ? conflict.data.currentVersion : undefined;
      throw new GenesysConflictError(`${method} ${path}: conflict (409)${detail}`, currentVersion, where);
    }
    if (status === 403) throw new GenesysAuthError(`${method} ${path}: forbidden (403)${detail}`, where);
    if (status >= 500) {
      // A gateway error on a write says nothing about whether the write committed.
      throw new GenesysServerError(`${method} ${path}: server error (${status})${detail}`, { ...where, outcomeUnknown: method !== 'GET' });
    }
    throw new GenesysError(`${method} ${path}: request refused (${status})${detail}`, { ...where, retryable: false });
  }

  /** OAuth client_credentials with HTTP Basic client authentication. Never logs the secret or the token. */
  private async requestToken(): Promise<TokenResponse> {
    const path = '/oauth/token';
    // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined (a no-op for Genesys's own ids).
    const credentials = Buffer.from(`${formEncode(this.config.clientId)}:${formEncode(this.config.clientSecret)}`).toString('base64');
    const response = await this.transport.send({
      method: 'POST',
      url: `${this.loginBase}${path}`,
      path,
      headers: {
        authorization: `Basic ${credentials}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
      // Asking for a token twice is harmless: the token request may be repeated after a network error.
      safe: true,
    });
    const where = { method: 'POST', path, status: response.status };
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      throw new GenesysAuthError(`token request refused (${response.status})${errorDetail(response.text)}`, where);
    }
    if (response.status >= 500) throw new GenesysServerError(`token request failed (${response.status})`, where);
    if (response.status < 200 || response.status >= 300) {
      throw new GenesysError(`token request refused (${response.status})`, { ...where, retryable: false });
    }
    const parsed = TokenResponseSchema.safeParse(parseJson(response.text));
    if (!parsed.success) throw new GenesysProtocolError(`token response of unexpected shape (${summarizeIssues(parsed.error)})`, where);
    this.logger.debug({ expiresInSeconds: parsed.data.expires_in }, 'genesys token issued');
    return parsed.data;
  }
}

/** A path segment, URL-encoded: ids come from webhooks and CLI input. */
function seg(value: string): string {
  return encodeURIComponent(value);
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function summarizeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

function errorMessage(text: string): string {
  const json = parseJson(text);
  const message = json && typeof json === 'object' ? (json as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : '';
}

/** `: <code> <message>` from a Genesys error body, short, for error messages (no secrets live in error bodies). */
function errorDetail(text: string): string {
  const json = parseJson(text);
  if (json && typeof json === 'object') {
    const { code, message } = json as { code?: unknown; message?: unknown; error?: unknown };
    const error = (json as { error?: unknown }).error;
    const parts = [code ?? error, message].filter((part) => typeof part === 'string') as string[];
    if (parts.length > 0) return `: ${parts.join(' ').slice(0, 300)}`;
  }
  return '';
}

function parseRequest<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    // A programming error on our side, not a Genesys answer: say what is wrong without echoing secrets.
    throw new TypeError(`${what}: invalid request body (${summarizeIssues(parsed.error)})`);
  }
  return parsed.data;
}
