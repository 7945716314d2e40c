/**
 * The emulator plays Jira Service Management (Jira Cloud REST API v3) for Tollgate's change tickets, as a separate
 * program would: the routes the ticket adapter calls, under `/jira/rest/api/3` (create an issue, read it, comment,
 * list comments, list and perform transitions, search with JQL), behind HTTP Basic auth with an API token, and an
 * admin listing (`GET /__emulator/jira/issues`) of every issue with its fields, comments and current status.
 *
 * Like Jira Cloud, it refuses what the real one refuses: a description or comment body that is not valid Atlassian
 * Document Format (v3 takes ADF only), a summary with a line break or over 255 characters, an unknown project or
 * issue type, a label with a space, a transition that is not available from the issue's status. Its search index
 * can lag behind creation (`jiraSearchLagMs`), as Jira's does, so a client that "finds the issue it may have
 * created" is tested against a search that does not see it yet. Faults (`POST /__emulator/faults` with a
 * `pathPrefix` under `/jira`) apply as on every other route.
 *
 * The state lives in the emulator's state (persisted with it) and is replaced with it on `POST /__emulator/reset`.
 */
import { Router, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { HttpError } from './errors';
import { sameSecret } from './secrets';

export interface JiraComment {
  id: string;
  author: string;
  body: unknown;
  created: string;
  properties: Array<{ key: string; value: unknown }>;
}

export interface JiraTransitionRecord {
  name: string;
  from: string;
  to: string;
  at: string;
  by: string;
}

export interface JiraIssue {
  id: string;
  key: string;
  project: string;
  issueType: string;
  summary: string;
  description?: unknown;
  labels: string[];
  status: string;
  reporter: string;
  created: string;
  updated: string;
  comments: JiraComment[];
  transitions: JiraTransitionRecord[];
}

/** Everything the emulated Jira remembers: plain data, so the state file can hold it. */
export class JiraState {
  issues: JiraIssue[] = [];
  nextIssueId = 10_000;
  nextCommentId = 20_000;
  /** Per project key, the last issue number given. */
  issueNumbers: Record<string, number> = {};
}

/**
 * The project workflow: a simplified Jira Service Management change workflow. Statuses in the `done` category are
 * final (no transition leaves them), so a transition performed twice is refused the second time, as in Jira.
 */
export const JIRA_STATUSES: Record<string, { id: string; category: 'new' | 'indeterminate' | 'done' }> = {
  Open: { id: '1', category: 'new' },
  Implementing: { id: '3', category: 'indeterminate' },
  Done: { id: '10001', category: 'done' },
  Declined: { id: '10002', category: 'done' },
  Canceled: { id: '10003', category: 'done' },
  Failed: { id: '10004', category: 'done' },
};
export const JIRA_INITIAL_STATUS = 'Open';
export const JIRA_TRANSITIONS: Array<{ id: string; name: string; to: string }> = [
  { id: '11', name: 'Implement', to: 'Implementing' },
  { id: '21', name: 'Done', to: 'Done' },
  { id: '31', name: 'Decline', to: 'Declined' },
  { id: '41', name: 'Cancel', to: 'Canceled' },
  { id: '51', name: 'Mark as failed', to: 'Failed' },
];

function availableTransitions(status: string) {
  if (JIRA_STATUSES[status]?.category === 'done') return [];
  return JIRA_TRANSITIONS.filter((transition) => transition.to !== status);
}

function statusJson(name: string) {
  const status = JIRA_STATUSES[name];
  return { id: status.id, name, statusCategory: { key: status.category } };
}

// ---------------------------------------------------------------------------------------------------------------
// Atlassian Document Format: the checks Jira makes on a v3 body (a subset of the schema, strict on what it knows).

const BLOCK_NODES = new Set(['paragraph', 'heading', 'codeBlock', 'bulletList', 'orderedList', 'blockquote', 'rule', 'panel']);
const MARKS = new Set(['strong', 'em', 'code', 'strike', 'underline', 'link']);

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Why `value` is not an ADF document, or undefined when it is one. */
export function adfProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not an ADF document (v3 takes Atlassian Document Format, not a string)';
  if (value.type !== 'doc' || value.version !== 1) return 'the root node must be { "type": "doc", "version": 1 }';
  if (!Array.isArray(value.content)) return 'doc.content must be an array';
  for (const [index, node] of value.content.entries()) {
    const problem = blockProblem(node, `content[${index}]`);
    if (problem) return problem;
  }
  return undefined;
}

function blockProblem(node: unknown, at: string): string | undefined {
  if (!isObject(node) || typeof node.type !== 'string') return `${at}: a node needs a type`;
  if (!BLOCK_NODES.has(node.type)) return `${at}: "${node.type}" is not a block node`;
  const content = node.content;
  switch (node.type) {
    case 'rule':
      return content === undefined ? undefined : `${at}: a rule has no content`;
    case 'heading': {
      const level = isObject(node.attrs) ? node.attrs.level : undefined;
      if (typeof level !== 'number' || !Number.isInteger(level) || level < 1 || level > 6) return `${at}: a heading needs attrs.level 1-6`;
      return inlinesProblem(content, at, true);
    }
    case 'paragraph':
      return inlinesProblem(content, at, true);
    case 'codeBlock': {
      if (node.attrs !== undefined && (!isObject(node.attrs) || (node.attrs.language !== undefined && typeof node.attrs.language !== 'string'))) {
        return `${at}: codeBlock attrs.language must be a string`;
      }
      if (content === undefined) return undefined;
      if (!Array.isArray(content)) return `${at}.content must be an array`;
      for (const [index, child] of content.entries()) {
        if (!isObject(child) || child.type !== 'text') return `${at}.content[${index}]: a codeBlock holds text nodes only`;
        if (child.marks !== undefined) return `${at}.content[${index}]: text in a codeBlock takes no marks`;
        const problem = textProblem(child, `${at}.content[${index}]`);
        if (problem) return problem;
      }
      return undefined;
    }
    case 'bulletList':
    case 'orderedList': {
      if (!Array.isArray(content) || content.length === 0) return `${at}: a list needs at least one listItem`;
      for (const [index, item] of content.entries()) {
        if (!isObject(item) || item.type !== 'listItem') return `${at}.content[${index}]: a list holds listItem nodes`;
        if (!Array.isArray(item.content) || item.content.length === 0) return `${at}.content[${index}]: a listItem needs content`;
        for (const [inner, child] of item.content.entries()) {
          const problem = blockProblem(child, `${at}.content[${index}].content[${inner}]`);
          if (problem) return problem;
        }
      }
      return undefined;
    }
    case 'blockquote':
    case 'panel': {
      if (!Array.isArray(content) || content.length === 0) return `${at}: a ${node.type} needs content`;
      for (const [index, child] of content.entries()) {
        const problem = blockProblem(child, `${at}.content[${index}]`);
        if (problem) return problem;
      }
      return undefined;
    }
  }
  return undefined;
}

function inlinesProblem(content: unknown, at: string, optional: boolean): string | undefined {
  if (content === undefined && optional) return undefined;
  if (!Array.isArray(content)) return `${at}.content must be an array`;
  for (const [index, node] of content.entries()) {
    const where = `${at}.content[${index}]`;
    if (!isObject(node) || typeof node.type !== 'string') return `${where}: a node needs a type`;
    if (node.type === 'hardBreak') continue;
    if (node.type !== 'text') return `${where}: "${node.type}" is not an inline node this emulator knows`;
    const problem = textProblem(node, where);
    if (problem) return problem;
  }
  return undefined;
}

function textProblem(node: Json, at: string): string | undefined {
  // Jira refuses an empty text node ("INVALID_INPUT"): a builder that emits one has a bug.
  if (typeof node.text !== 'string' || node.text.length === 0) return `${at}: a text node needs non-empty text`;
  if (node.marks === undefined) return undefined;
  if (!Array.isArray(node.marks)) return `${at}.marks must be an array`;
  const types: string[] = [];
  for (const mark of node.marks) {
    if (!isObject(mark) || typeof mark.type !== 'string' || !MARKS.has(mark.type)) return `${at}: unknown mark`;
    if (mark.type === 'link' && (!isObject(mark.attrs) || typeof mark.attrs.href !== 'string' || mark.attrs.href.length === 0)) {
      return `${at}: a link mark needs attrs.href`;
    }
    types.push(mark.type);
  }
  // ADF: the code mark combines with link only.
  if (types.includes('code') && types.some((type) => type !== 'code' && type !== 'link')) return `${at}: the code mark combines with link only`;
  return undefined;
}

/** The document's text, a line per block (what the admin listing shows beside the ADF). */
export function adfText(value: unknown): string {
  const lines: string[] = [];
  const inline = (nodes: unknown): string =>
    Array.isArray(nodes) ? nodes.map((node) => (isObject(node) ? (node.type === 'hardBreak' ? '\n' : String(node.text ?? '')) : '')).join('') : '';
  const block = (node: unknown, prefix: string): void => {
    if (!isObject(node)) return;
    if (node.type === 'bulletList' || node.type === 'orderedList') {
      for (const item of (node.content as unknown[]) ?? []) for (const child of (isObject(item) ? (item.content as unknown[]) : []) ?? []) block(child, `${prefix}- `);
      return;
    }
    if (node.type === 'blockquote' || node.type === 'panel') {
      for (const child of (node.content as unknown[]) ?? []) block(child, `${prefix}> `);
      return;
    }
    if (node.type === 'rule') {
      lines.push(`${prefix}---`);
      return;
    }
    lines.push(`${prefix}${inline(node.content)}`);
  };
  if (isObject(value) && Array.isArray(value.content)) for (const node of value.content) block(node, '');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Requests

/** Jira's own error body: `{ errorMessages: [...], errors: { field: message } }`. */
class JiraHttpError extends HttpError {
  constructor(
    status: number,
    readonly errorMessages: string[],
    readonly fieldErrors: Record<string, string> = {},
  ) {
    super(status, 'jira', errorMessages[0] ?? Object.values(fieldErrors)[0] ?? 'error');
  }
}

const badRequest = (messages: string[], errors: Record<string, string> = {}) => new JiraHttpError(400, messages, errors);
const notFound = () => new JiraHttpError(404, ['Issue does not exist or you do not have permission to see it.']);

const PropertySchema = z.object({ key: z.string().min(1).max(255), value: z.unknown() });

const CreateIssueSchema = z.object({
  fields: z.looseObject({
    project: z.object({ key: z.string().optional(), id: z.string().optional() }),
    issuetype: z.object({ name: z.string().optional(), id: z.string().optional() }),
    summary: z.string().optional(),
    description: z.unknown().optional(),
    labels: z.array(z.string()).optional(),
  }),
  properties: z.array(PropertySchema).optional(),
});

const CommentSchema = z.object({ body: z.unknown(), properties: z.array(PropertySchema).optional(), visibility: z.unknown().optional() });
const TransitionSchema = z.object({ transition: z.object({ id: z.string().min(1) }) });

function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw badRequest([z.prettifyError(result.error)]);
  return result.data;
}

function jira(ctx: EmulatorContext): JiraState {
  return ctx.state.jira;
}

function findIssue(ctx: EmulatorContext, idOrKey: string): JiraIssue {
  const issue = jira(ctx).issues.find((candidate) => candidate.key === idOrKey.toUpperCase() || candidate.id === idOrKey);
  if (!issue) throw notFound();
  return issue;
}

function selfUrl(req: Request, path: string): string {
  return `${req.protocol}://${req.get('host')}${req.baseUrl}${path}`;
}

function issueJson(req: Request, issue: JiraIssue, fields?: string[]) {
  const all: Record<string, unknown> = {
    summary: issue.summary,
    status: statusJson(issue.status),
    labels: issue.labels,
    issuetype: { name: issue.issueType },
    project: { key: issue.project },
    description: issue.description ?? null,
    reporter: { emailAddress: issue.reporter },
    created: issue.created,
    updated: issue.updated,
  };
  const wanted = fields && fields.length > 0 && !fields.includes('*all') ? Object.fromEntries(Object.entries(all).filter(([name]) => fields.includes(name))) : all;
  return { id: issue.id, key: issue.key, self: selfUrl(req, `/rest/api/3/issue/${issue.id}`), fields: wanted };
}

function commentJson(req: Request, issue: JiraIssue, comment: JiraComment, withProperties: boolean) {
  return {
    id: comment.id,
    self: selfUrl(req, `/rest/api/3/issue/${issue.id}/comment/${comment.id}`),
    author: { emailAddress: comment.author, displayName: comment.author },
    body: comment.body,
    created: comment.created,
    updated: comment.created,
    ...(withProperties ? { properties: comment.properties } : {}),
  };
}

const fieldList = (value: unknown): string[] | undefined =>
  typeof value === 'string' ? value.split(',').map((field) => field.trim()).filter(Boolean) : Array.isArray(value) ? value.map(String) : undefined;

/**
 * The JQL this emulator understands: clauses joined by AND, each `project = KEY`, `labels = value` or
 * `labels in (a, b)`, values bare or double-quoted, then optionally `ORDER BY created|key [ASC|DESC]`. Anything else
 * is a 400, as an invalid query is in Jira.
 */
function jqlQuery(jql: string): { matches: (issue: JiraIssue) => boolean; order: (a: JiraIssue, b: JiraIssue) => number } {
  const ordered = /^(.*?)\s+ORDER\s+BY\s+(created|key)(?:\s+(ASC|DESC))?\s*$/i.exec(jql.trim());
  const where = ordered ? ordered[1] : jql;
  const direction = ordered?.[3]?.toUpperCase() === 'DESC' ? -1 : 1;
  const order = (a: JiraIssue, b: JiraIssue) => direction * (Number(a.id) - Number(b.id));
  return { matches: jqlMatcher(where), order };
}

function jqlMatcher(jql: string): (issue: JiraIssue) => boolean {
  const clauses = jql.trim().split(/\s+AND\s+/i);
  const value = `("(?:[^"\\\\]|\\\\.)*"|[A-Za-z0-9_.-]+)`;
  const unquote = (text: string) => (text.startsWith('"') ? text.slice(1, -1).replace(/\\(.)/g, '$1') : text);
  const tests = clauses.map((clause) => {
    const equals = new RegExp(`^(project|labels)\\s*=\\s*${value}$`, 'i').exec(clause.trim());
    if (equals) {
      const field = equals[1].toLowerCase();
      const wanted = unquote(equals[2]);
      return field === 'project' ? (issue: JiraIssue) => issue.project === wanted.toUpperCase() : (issue: JiraIssue) => issue.labels.includes(wanted);
    }
    const within = /^labels\s+in\s*\((.*)\)$/i.exec(clause.trim());
    if (within) {
      const values = within[1].split(',').map((item) => unquote(item.trim()));
      return (issue: JiraIssue) => issue.labels.some((label) => values.includes(label));
    }
    throw badRequest([`Error in the JQL Query: this emulator cannot read "${clause.trim()}".`]);
  });
  return (issue) => tests.every((test) => test(issue));
}

function requireBasicAuth(ctx: EmulatorContext): RequestHandler {
  return (req, _res, next) => {
    const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const user = colon > 0 ? decoded.slice(0, colon) : '';
    const expected = ctx.settings.jiraUsers[user];
    if (!expected || !sameSecret(decoded.slice(colon + 1), expected)) {
      next(new JiraHttpError(401, ['Client must be authenticated to access this resource.']));
      return;
    }
    (req as Request & { jiraUser?: string }).jiraUser = user;
    next();
  };
}

const jiraErrors: ErrorRequestHandler = (err: unknown, _req, res, next) => {
  if (res.headersSent) {
    next(err);
    return;
  }
  if (err instanceof JiraHttpError) {
    res.status(err.status).json({ errorMessages: err.errorMessages, errors: err.fieldErrors });
    return;
  }
  const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
  res.status(status).json({ errorMessages: [status >= 500 ? 'Internal server error' : (err as Error).message], errors: {} });
};

/** The REST API v3 the ticket adapter calls, mounted at `/jira` (what TOLLGATE_JIRA_URL points at in sandbox mode). */
export function jiraApiRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  router.use(requireBasicAuth(ctx));
  const userOf = (req: Request) => (req as Request & { jiraUser?: string }).jiraUser ?? 'unknown';
  const now = () => new Date().toISOString();

  router.post('/rest/api/3/issue', (req, res) => {
    const body = parse(CreateIssueSchema, req.body);
    const { fields } = body;
    const errors: Record<string, string> = {};
    const project = ctx.settings.jiraProjects.find((key) => key === fields.project.key?.toUpperCase() || key === fields.project.id);
    if (!project) errors.project = 'valid project is required';
    const issueType = ctx.settings.jiraIssueTypes.find((name) => name.toLowerCase() === (fields.issuetype.name ?? fields.issuetype.id ?? '').toLowerCase());
    if (!issueType) errors.issuetype = 'Specify a valid issue type';
    const summary = fields.summary ?? '';
    if (summary.trim().length === 0) errors.summary = 'You must specify a summary of the issue.';
    else if (/[\r\n]/.test(summary)) errors.summary = 'The summary is invalid because it contains newline characters.';
    else if (summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
    if (fields.description !== undefined && fields.description !== null) {
      const problem = adfProblem(fields.description);
      if (problem) errors.description = `Operation value must be an Atlassian Document (${problem}).`;
    }
    for (const label of fields.labels ?? []) {
      if (label.length === 0 || label.length > 255 || /\s/.test(label)) errors.labels = `The label '${label}' contains spaces or is empty or too long.`;
    }
    if (Object.keys(errors).length > 0) throw badRequest([], errors);
    const state = jira(ctx);
    const number = (state.issueNumbers[project!] ?? 0) + 1;
    state.issueNumbers[project!] = number;
    const at = now();
    const issue: JiraIssue = {
      id: String(state.nextIssueId++),
      key: `${project}-${number}`,
      project: project!,
      issueType: issueType!,
      summary,
      ...(fields.description ? { description: fields.description } : {}),
      labels: fields.labels ?? [],
      status: JIRA_INITIAL_STATUS,
      reporter: userOf(req),
      created: at,
      updated: at,
      comments: [],
      transitions: [],
    };
    state.issues.push(issue);
    res.status(201).json({ id: issue.id, key: issue.key, self: selfUrl(req, `/rest/api/3/issue/${issue.id}`) });
  });

  router.get('/rest/api/3/issue/:key', (req, res) => {
    res.json(issueJson(req, findIssue(ctx, req.params.key), fieldList(req.query.fields)));
  });

  router.post('/rest/api/3/issue/:key/comment', (req, res) => {
    const issue = findIssue(ctx, req.params.key);
    const body = parse(CommentSchema, req.body);
    const problem = adfProblem(body.body);
    if (problem) throw badRequest([`Comment body is not valid: ${problem}`]);
    const comment: JiraComment = { id: String(jira(ctx).nextCommentId++), author: userOf(req), body: body.body, created: now(), properties: body.properties ?? [] };
    issue.comments.push(comment);
    issue.updated = comment.created;
    res.status(201).json(commentJson(req, issue, comment, true));
  });

  router.get('/rest/api/3/issue/:key/comment', (req, res) => {
    const issue = findIssue(ctx, req.params.key);
    const startAt = Math.max(0, Number(req.query.startAt ?? 0) || 0);
    const maxResults = Math.min(5000, Math.max(1, Number(req.query.maxResults ?? 5000) || 5000));
    const ordered = req.query.orderBy === '-created' ? [...issue.comments].reverse() : issue.comments;
    const withProperties = String(req.query.expand ?? '').split(',').includes('properties');
    const page = ordered.slice(startAt, startAt + maxResults);
    res.json({ startAt, maxResults, total: issue.comments.length, comments: page.map((comment) => commentJson(req, issue, comment, withProperties)) });
  });

  router.get('/rest/api/3/issue/:key/transitions', (req, res) => {
    const issue = findIssue(ctx, req.params.key);
    res.json({
      transitions: availableTransitions(issue.status).map((transition) => ({ id: transition.id, name: transition.name, to: statusJson(transition.to), isAvailable: true })),
    });
  });

  router.post('/rest/api/3/issue/:key/transitions', (req, res) => {
    const issue = findIssue(ctx, req.params.key);
    const { transition } = parse(TransitionSchema, req.body);
    const chosen = availableTransitions(issue.status).find((candidate) => candidate.id === transition.id);
    if (!chosen) throw badRequest([`Transition id '${transition.id}' is not valid for this issue.`]);
    const at = now();
    issue.transitions.push({ name: chosen.name, from: issue.status, to: chosen.to, at, by: userOf(req) });
    issue.status = chosen.to;
    issue.updated = at;
    res.status(204).end();
  });

  const search = (req: Request, query: { jql?: unknown; fields?: unknown; maxResults?: unknown }) => {
    if (typeof query.jql !== 'string' || query.jql.trim() === '') throw badRequest(['The JQL query is required (unbounded searches are not supported).']);
    const { matches, order } = jqlQuery(query.jql);
    const maxResults = Math.min(5000, Math.max(1, Number(query.maxResults ?? 50) || 50));
    // Jira's search index trails writes: an issue younger than the lag is not found yet.
    const visibleBefore = Date.now() - ctx.settings.jiraSearchLagMs;
    const found = jira(ctx)
      .issues.filter((issue) => Date.parse(issue.created) <= visibleBefore && matches(issue))
      .sort(order);
    return { issues: found.slice(0, maxResults).map((issue) => issueJson(req, issue, fieldList(query.fields) ?? ['summary', 'status', 'labels'])), isLast: found.length <= maxResults };
  };
  router.get('/rest/api/3/search/jql', (req, res) => {
    res.json(search(req, req.query));
  });
  router.post('/rest/api/3/search/jql', (req, res) => {
    res.json(search(req, (req.body ?? {}) as Record<string, unknown>));
  });

  router.use((req, _res, next) => next(new JiraHttpError(404, [`No route for ${req.method} ${req.path}`])));
  router.use(jiraErrors);
  return router;
}

/** The admin routes, mounted at `/__emulator/jira`: every issue with its fields, comments and current status. */
export function jiraAdminRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  router.get('/issues', (_req, res) => {
    res.json({
      issues: jira(ctx).issues.map((issue) => ({
        id: issue.id,
        key: issue.key,
        project: issue.project,
        issueType: issue.issueType,
        summary: issue.summary,
        labels: issue.labels,
        status: issue.status,
        statusCategory: JIRA_STATUSES[issue.status].category,
        reporter: issue.reporter,
        created: issue.created,
        updated: issue.updated,
        description: issue.description ?? null,
        descriptionText: adfText(issue.description),
        comments: issue.comments.map((comment) => ({ ...comment, text: adfText(comment.body) })),
        transitions: issue.transitions,
      })),
    });
  });
  return router;
}
