/**
 * OAuth client credentials: the token endpoints (`/oauth/token` and the seed's `/api/v2/oauth/token`) and the
 * Bearer check in front of every other `/api/v2` route. Tokens really expire (after `tokenTtlSeconds`, or at once
 * by `POST /__emulator/tokens/expire`), so a client's refresh (change-gate Edge Case 2) meets a real 401.
 */
import { randomBytes } from 'node:crypto';
import express, { type RequestHandler, type Response, Router } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { HttpError } from './errors';
import { tokenFingerprint } from './request-budgets';
import { sameSecret } from './secrets';

/** The form (or JSON) fields of a client-credentials token request; the client may come by HTTP Basic instead. */
const TokenRequestSchema = z.looseObject({
  grant_type: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** `POST /oauth/token` and the seed's `POST /api/v2/oauth/token` (change-gate Edge Case 2 refreshes through it). */
export function oauthRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  const parsers = [express.urlencoded({ extended: false }), express.json()];
  router.post(['/oauth/token', '/api/v2/oauth/token'], ...parsers, (req, res) => {
    const parsed = TokenRequestSchema.safeParse(req.body ?? {});
    if (!parsed.success) return oauthError(res, 400, 'invalid_request', 'The token request body is malformed');
    const form = parsed.data;
    if (form.grant_type === undefined) return oauthError(res, 400, 'invalid_request', 'grant_type is required');
    if (form.grant_type !== 'client_credentials') {
      return oauthError(res, 400, 'unsupported_grant_type', 'Only client_credentials is supported');
    }
    const credentials = basicCredentials(req.headers.authorization) ?? formCredentials(form);
    if (!credentials || !isKnownClient(ctx.settings.clients, credentials)) {
      return oauthError(res, 401, 'invalid_client', 'Unknown client or wrong secret');
    }
    const token = issueToken(ctx, credentials.clientId);
    res.set('Cache-Control', 'no-store');
    res.json({ access_token: token, token_type: 'bearer', expires_in: ctx.settings.tokenTtlSeconds });
  });
  return router;
}

/** Guards every Genesys-shaped API route: a missing, unknown or expired token is a 401. */
export function requireBearer(ctx: EmulatorContext): RequestHandler {
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match) {
      res.set('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'authentication.required', 'A Bearer token is required');
    }
    const token = ctx.state.accessTokens.get(match[1]);
    if (!token) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new HttpError(401, 'bad.credentials', 'Unknown access token');
    }
    if (Date.now() >= token.expiresAt) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new HttpError(401, 'credentials.expired', 'The access token has expired');
    }
    res.locals.clientId = token.clientId;
    res.locals.tokenId = tokenFingerprint(token.token);
    next();
  };
}

/** The OAuth client that made this request; set by `requireBearer`. */
export function authenticatedClient(res: Response): string {
  return String(res.locals.clientId);
}

export function expireAllTokens(ctx: EmulatorContext): number {
  const now = Date.now();
  for (const token of ctx.state.accessTokens.values()) token.expiresAt = Math.min(token.expiresAt, now);
  return ctx.state.accessTokens.size;
}

function issueToken(ctx: EmulatorContext, clientId: string): string {
  const token = randomBytes(24).toString('base64url');
  const issuedAt = Date.now();
  const expiresAt = issuedAt + ctx.settings.tokenTtlSeconds * 1000;
  ctx.state.accessTokens.set(token, { token, clientId, issuedAt, expiresAt });
  return token;
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded. */
function basicCredentials(header: string | undefined): ClientCredentials | undefined {
  const match = /^Basic\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
}

function formCredentials(form: z.infer<typeof TokenRequestSchema>): ClientCredentials | undefined {
  if (form.client_id === undefined || form.client_secret === undefined) return undefined;
  return { clientId: form.client_id, clientSecret: form.client_secret };
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

function isKnownClient(clients: Record<string, string>, credentials: ClientCredentials): boolean {
  const expected = Object.hasOwn(clients, credentials.clientId) ? clients[credentials.clientId] : undefined;
  return expected !== undefined && sameSecret(credentials.clientSecret, expected);
}

function oauthError(res: Response, status: number, error: string, description: string): void {
  res.status(status).json({ error, error_description: description });
}
