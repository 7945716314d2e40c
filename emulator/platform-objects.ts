/**
 * The real Genesys Cloud objects the emulator plays beside the seeds' `/api/v2/configuration` objects: Architect IVRs,
 * schedules, schedule groups and emergency groups (versioned: a PUT carries the current version, the server assigns
 * the next), routing queues and wrap-up codes and data table rows (no version: last writer wins), and users (PATCH
 * with the current version). Each kind knows its paths, which fields the server manages, how it renders, and its
 * entry in the audit trail. A change of any kind — API write, UI edit, another OAuth client — is recorded in the audit
 * trail (audit-trail.ts), which also pushes it to subscribed notification channels.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { EmulatorContext } from './context';
import { HttpError, badRequest, notFound } from './errors';

/** Who changed an object: an OAuth client through the API, or a person in the Genesys Cloud UI (whose browser
 * session is the web app's client). */
export type Actor = { kind: 'client'; clientId: string } | { kind: 'user'; name: string };

/** The Genesys Cloud web app's OAuth client: a person's UI edit is made through it. */
export const UI_CLIENT_ID = 'genesys-cloud-web-app';

export interface PlatformKind {
  /** Tollgate's target type, e.g. `architect.schedule`. */
  type: string;
  /** The collection path; an object is `${collection}/{id}`. Data table rows: `/api/v2/flows/datatables/{tableId}/rows`. */
  collection: string;
  serviceName: string;
  entityType: string;
  /** The PUT (or PATCH) body carries the current version; the server assigns the next. */
  versioned: boolean;
  updateMethod: 'PUT' | 'PATCH';
  /** Fields a create (and a PUT, which replaces) must carry. */
  required: string[];
  /** Fields the server sets: ignored in request bodies, rendered on every read. */
  serverFields: string[];
  /** Stored fields an API read shows only when its `expand` names them (a user's `groups` and `locations`); a write's
   * answer never shows them. */
  expandOnly?: string[];
}

const ARCHITECT_SERVER_FIELDS = ['id', 'version', 'dateCreated', 'dateModified', 'modifiedBy', 'createdBy', 'state', 'modifiedByApp', 'createdByApp', 'selfUri'];

export const PLATFORM_KINDS: Record<string, PlatformKind> = {
  'architect.ivr': {
    type: 'architect.ivr',
    collection: '/api/v2/architect/ivrs',
    serviceName: 'Architect',
    entityType: 'IVR',
    versioned: true,
    updateMethod: 'PUT',
    required: ['name'],
    serverFields: ARCHITECT_SERVER_FIELDS,
  },
  'architect.schedule': {
    type: 'architect.schedule',
    collection: '/api/v2/architect/schedules',
    serviceName: 'Architect',
    entityType: 'Schedule',
    versioned: true,
    updateMethod: 'PUT',
    required: ['name', 'start', 'end'],
    serverFields: ARCHITECT_SERVER_FIELDS,
  },
  'architect.schedulegroup': {
    type: 'architect.schedulegroup',
    collection: '/api/v2/architect/schedulegroups',
    serviceName: 'Architect',
    entityType: 'ScheduleGroup',
    versioned: true,
    updateMethod: 'PUT',
    required: ['name'],
    serverFields: ARCHITECT_SERVER_FIELDS,
  },
  'architect.emergencygroup': {
    type: 'architect.emergencygroup',
    collection: '/api/v2/architect/emergencygroups',
    serviceName: 'Architect',
    entityType: 'EmergencyGroup',
    versioned: true,
    updateMethod: 'PUT',
    required: ['name'],
    serverFields: ARCHITECT_SERVER_FIELDS,
  },
  'routing.queue': {
    type: 'routing.queue',
    collection: '/api/v2/routing/queues',
    serviceName: 'Routing',
    entityType: 'Queue',
    versioned: false,
    updateMethod: 'PUT',
    required: ['name'],
    serverFields: ['id', 'dateCreated', 'dateModified', 'modifiedBy', 'createdBy', 'memberCount', 'userMemberCount', 'joinedMemberCount', 'selfUri'],
  },
  'routing.wrapupcode': {
    type: 'routing.wrapupcode',
    collection: '/api/v2/routing/wrapupcodes',
    serviceName: 'Routing',
    entityType: 'WrapupCode',
    versioned: false,
    updateMethod: 'PUT',
    required: ['name'],
    serverFields: ['id', 'dateCreated', 'dateModified', 'createdBy', 'modifiedBy', 'selfUri'],
  },
  'datatable.row': {
    type: 'datatable.row',
    collection: '/api/v2/flows/datatables/{datatableId}/rows',
    serviceName: 'Datatables',
    entityType: 'DataTableRow',
    versioned: false,
    updateMethod: 'PUT',
    required: ['key'],
    serverFields: [],
  },
  user: {
    type: 'user',
    collection: '/api/v2/users',
    serviceName: 'Directory',
    entityType: 'User',
    versioned: true,
    updateMethod: 'PATCH',
    required: ['name', 'email'],
    serverFields: ['id', 'version', 'selfUri', 'state', 'dateLastLogin', 'dateWelcomeSent', 'lastTokenIssued', 'presence', 'routingStatus'],
    expandOnly: ['groups', 'locations'],
  },
};

export interface PlatformObject {
  type: string;
  id: string;
  /** The data table of a row. */
  parentId?: string;
  fields: Record<string, unknown>;
  /** Counts every change; shown only for versioned kinds. */
  version: number;
  dateCreated: string;
  dateModified: string;
  createdBy: string;
  modifiedBy: string;
  createdByApp?: string;
  modifiedByApp?: string;
}

export interface Datatable {
  id: string;
  name: string;
  description?: string;
  schema: Record<string, unknown>;
  division?: Record<string, unknown>;
}

/** Which version-conflict answer a versioned kind gives: 409, or 400 with "does not match the current version"
 * (some Genesys services answer one, some the other; the terraform provider treats both as a conflict). */
export type ConflictVariant = 409 | 400;

export const CONFLICT_409_MESSAGE = 'The version number of the modified resource must match the version number in the database.';

export class PlatformState {
  readonly objects = new Map<string, PlatformObject>();
  readonly datatables = new Map<string, Datatable>();
  readonly conflictVariants = new Map<string, ConflictVariant>();
}

export function platformKey(type: string, id: string, parentId?: string): string {
  return parentId === undefined ? `${type}/${id}` : `${type}/${parentId}/${id}`;
}

export function objectPath(object: Pick<PlatformObject, 'type' | 'id' | 'parentId'>): string {
  const kind = PLATFORM_KINDS[object.type];
  if (object.type === 'datatable.row') return `/api/v2/flows/datatables/${encodeURIComponent(object.parentId ?? '')}/rows/${encodeURIComponent(object.id)}`;
  return `${kind.collection}/${encodeURIComponent(object.id)}`;
}

const HOME_DIVISION = { id: '0b3e6f5e-0000-4000-8000-000000000001', name: 'Home', selfUri: '/api/v2/authorization/divisions/0b3e6f5e-0000-4000-8000-000000000001' };

/** The object as the API answers it: server-managed fields first, then the writable ones. */
export function renderObject(object: PlatformObject): Record<string, unknown> {
  const selfUri = objectPath(object);
  switch (object.type) {
    case 'datatable.row':
      return { ...object.fields, key: object.id };
    case 'routing.queue':
      return {
        id: object.id,
        division: HOME_DIVISION,
        ...object.fields,
        dateCreated: object.dateCreated,
        dateModified: object.dateModified,
        modifiedBy: object.modifiedBy,
        createdBy: object.createdBy,
        memberCount: 0,
        userMemberCount: 0,
        joinedMemberCount: 0,
        selfUri,
      };
    case 'routing.wrapupcode':
      return {
        id: object.id,
        division: HOME_DIVISION,
        ...object.fields,
        dateCreated: object.dateCreated,
        dateModified: object.dateModified,
        createdBy: object.createdBy,
        modifiedBy: object.modifiedBy,
        selfUri,
      };
    case 'user':
      return { id: object.id, division: HOME_DIVISION, ...object.fields, state: 'active', version: object.version, selfUri };
    default:
      return {
        id: object.id,
        division: HOME_DIVISION,
        ...object.fields,
        version: object.version,
        dateCreated: object.dateCreated,
        dateModified: object.dateModified,
        modifiedBy: object.modifiedBy,
        createdBy: object.createdBy,
        state: 'active',
        ...(object.modifiedByApp ? { modifiedByApp: object.modifiedByApp } : {}),
        ...(object.createdByApp ? { createdByApp: object.createdByApp } : {}),
        selfUri,
      };
  }
}

/** The `expand` of a request's query: `expand=groups,locations` or `expand=groups&expand=locations` (the SDK's). */
export function expandOf(query: unknown): Set<string> {
  const raw = (query as { expand?: unknown } | undefined)?.expand;
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return new Set(values.flatMap((value) => String(value).split(',')).map((value) => value.trim()).filter((value) => value !== ''));
}

/** The object as an API call answers it: as renderObject, without the kind's expand-only fields `expand` does not name
 * (the full rendering stays for the audit trail and the admin API). */
export function renderForApi(object: PlatformObject, expand: ReadonlySet<string> = new Set()): Record<string, unknown> {
  const rendered = renderObject(object);
  for (const field of PLATFORM_KINDS[object.type].expandOnly ?? []) if (!expand.has(field)) delete rendered[field];
  return rendered;
}

/** The writable fields of a request body: server-managed ones (and `version`) are the server's. */
export function writableFields(kind: PlatformKind, body: Record<string, unknown>): Record<string, unknown> {
  // A user's password and division id are write-only inputs of a create (`CreateUser`), never fields.
  const ignored = new Set([...kind.serverFields, 'version', 'id', 'selfUri', ...(kind.type === 'user' ? ['password', 'divisionId'] : [])]);
  return Object.fromEntries(Object.entries(body).filter(([key]) => !ignored.has(key)));
}

export function findPlatformObject(ctx: EmulatorContext, type: string, id: string, parentId?: string): PlatformObject {
  const object = ctx.state.platform.objects.get(platformKey(type, id, parentId));
  if (!object) {
    const kind = PLATFORM_KINDS[type];
    throw new HttpError(404, 'not.found', `${kind.entityType} ${id} not found`);
  }
  return object;
}

/** A stable id per person, so the same name always shows as the same user in the audit trail. */
export function userIdOf(name: string): string {
  const hex = createHash('sha1').update(`user:${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function actorIds(actor: Actor): { by: string; app?: string } {
  return actor.kind === 'client' ? { by: actor.clientId, app: actor.clientId } : { by: userIdOf(actor.name), app: UI_CLIENT_ID };
}

export function createPlatformObject(ctx: EmulatorContext, kind: PlatformKind, body: Record<string, unknown>, actor: Actor, parentId?: string): PlatformObject {
  const fields = writableFields(kind, body);
  requireFields(kind, fields);
  const id = kind.type === 'datatable.row' ? String(fields.key) : randomUUID();
  if (kind.type === 'datatable.row') delete fields.key;
  if (ctx.state.platform.objects.has(platformKey(kind.type, id, parentId))) {
    throw new HttpError(409, 'general.conflict', `A row with key ${id} already exists`);
  }
  const now = new Date().toISOString();
  const { by, app } = actorIds(actor);
  const object: PlatformObject = {
    type: kind.type,
    id,
    ...(parentId !== undefined ? { parentId } : {}),
    fields,
    version: 1,
    dateCreated: now,
    dateModified: now,
    createdBy: by,
    modifiedBy: by,
    createdByApp: app,
    modifiedByApp: app,
  };
  ctx.state.platform.objects.set(platformKey(kind.type, id, parentId), object);
  return object;
}

export interface PlatformWrite {
  /** The fields of the body (writable ones only). */
  fields: Record<string, unknown>;
  /** The `version` of the body; required for versioned kinds. */
  version?: unknown;
  /** PUT replaces the writable fields; PATCH (users) merges. */
  mode: 'replace' | 'merge';
  actor: Actor;
  /** False: answer as if written and change nothing (the `discardWrite` fault). */
  apply: boolean;
}

/** An API write: the version rule of versioned kinds, then the change. Returns the object before and after. */
export function updatePlatformObject(ctx: EmulatorContext, current: PlatformObject, write: PlatformWrite): { before: PlatformObject; after: PlatformObject } {
  const kind = PLATFORM_KINDS[current.type];
  if (kind.versioned) {
    if (typeof write.version !== 'number' || !Number.isInteger(write.version)) {
      throw badRequest(`A version is required to update this ${kind.entityType}`);
    }
    if (write.version !== current.version) throw versionConflict(ctx, kind, write.version, current.version);
  }
  const fields = write.mode === 'merge' ? { ...current.fields, ...write.fields } : write.fields;
  if (write.mode === 'replace') requireFields(kind, kind.type === 'datatable.row' ? { ...fields, key: current.id } : fields);
  if (kind.type === 'datatable.row') {
    if (fields.key !== undefined && fields.key !== current.id) throw badRequest(`The row key ${String(fields.key)} does not match the row ${current.id}`);
    delete fields.key;
  }
  return { before: current, after: storeChange(ctx, current, fields, write.actor, write.apply) };
}

/** A person's save in the UI, or another OAuth client's write: merges fields, no version check ("Admin Override"). */
export function editPlatformObject(ctx: EmulatorContext, current: PlatformObject, fields: Record<string, unknown>, actor: Actor): PlatformObject {
  const kind = PLATFORM_KINDS[current.type];
  return storeChange(ctx, current, { ...current.fields, ...writableFields(kind, fields) }, actor, true);
}

function storeChange(ctx: EmulatorContext, current: PlatformObject, fields: Record<string, unknown>, actor: Actor, apply: boolean): PlatformObject {
  const { by, app } = actorIds(actor);
  const next: PlatformObject = {
    ...current,
    fields,
    version: current.version + 1,
    dateModified: new Date().toISOString(),
    modifiedBy: by,
    modifiedByApp: app,
  };
  if (apply) ctx.state.platform.objects.set(platformKey(current.type, current.id, current.parentId), next);
  return next;
}

export function deletePlatformObject(ctx: EmulatorContext, object: PlatformObject): void {
  ctx.state.platform.objects.delete(platformKey(object.type, object.id, object.parentId));
}

function versionConflict(ctx: EmulatorContext, kind: PlatformKind, sent: number, current: number): HttpError {
  const variant = ctx.state.platform.conflictVariants.get(kind.type) ?? 409;
  if (variant === 400) {
    return new HttpError(400, 'bad.request', `The version ${sent} does not match the current version ${current} of this ${kind.entityType}.`);
  }
  return new HttpError(409, 'general.conflict', CONFLICT_409_MESSAGE);
}

function requireFields(kind: PlatformKind, fields: Record<string, unknown>): void {
  const missing = kind.required.filter((field) => fields[field] === undefined || fields[field] === null || fields[field] === '');
  if (missing.length > 0) throw badRequest(`Missing required field(s) for ${kind.entityType}: ${missing.join(', ')}`);
}

/** Finds the object a real API path names (`/api/v2/architect/schedules/{id}`, `/api/v2/flows/datatables/{t}/rows/{k}`,
 * `/api/v2/users/{id}`, …), for the admin API's UI edit. */
export function objectAtPath(ctx: EmulatorContext, path: string): PlatformObject | undefined {
  const clean = path.split('?')[0].replace(/\/+$/, '');
  const row = /^\/api\/v2\/flows\/datatables\/([^/]+)\/rows\/([^/]+)$/.exec(clean);
  if (row) return ctx.state.platform.objects.get(platformKey('datatable.row', decodeURIComponent(row[2]), decodeURIComponent(row[1])));
  for (const kind of Object.values(PLATFORM_KINDS)) {
    if (kind.type === 'datatable.row' || !clean.startsWith(`${kind.collection}/`)) continue;
    const id = clean.slice(kind.collection.length + 1);
    if (id.includes('/')) continue;
    return ctx.state.platform.objects.get(platformKey(kind.type, decodeURIComponent(id)));
  }
  return undefined;
}

export function notFoundAtPath(path: string): HttpError {
  return notFound(`No object at ${path}`);
}
