/**
 * Configuration objects and the rules for changing them: an API write replaces all fields under optimistic locking
 * (the seed's "Version Control Ignorance" trap; per type the `increment` or `current` version rule), a UI edit merges
 * and bumps the version outside the gate ("Admin Override"), and a seed sets an object up with no check and no
 * webhook. Every change gets a `lastModifiedTime` and a change order, so "changed since, oldest first" is stable.
 */
import { z } from 'zod';
import type { EmulatorContext } from './context';
import { HttpError, notFound } from './errors';
import { type ConfigObject, type Modifier, objectKey, type VersionRule } from './state';

/** Top-level keys that describe an object rather than configure it; every other key is a field. */
export const METADATA_KEYS: ReadonlySet<string> = new Set(['id', 'type', 'version', 'lastModifiedTime', 'modifiedBy', 'selfUri']);

/** A time in a query or body, e.g. `lastModifiedTime=2023-10-01T00:00:00Z`. */
export const IsoTimeSchema = z.string().refine((value) => !Number.isNaN(Date.parse(value)), {
  message: 'must be an ISO 8601 time',
});

/** The fields of a request body: everything but the metadata keys, so a client may send back what it read. */
export function fieldsOf(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !METADATA_KEYS.has(key)));
}

export function selfUriOf(type: string, id: string): string {
  return `/api/v2/configuration/${encodeURIComponent(type)}/${encodeURIComponent(id)}`;
}

/** The object as the API shows it: metadata first, then its fields at the top level. */
export function toWire(object: ConfigObject): Record<string, unknown> {
  return {
    id: object.id,
    type: object.type,
    version: object.version,
    lastModifiedTime: object.lastModifiedTime,
    modifiedBy: object.modifiedBy,
    selfUri: selfUriOf(object.type, object.id),
    ...object.fields,
  };
}

export function findObject(ctx: EmulatorContext, type: string, id: string): ConfigObject {
  const object = ctx.state.objects.get(objectKey(type, id));
  if (!object) throw notFound(`No ${type} object with id ${id}`);
  return object;
}

export interface ObjectWrite {
  type: string;
  id: string;
  version: number;
  fields: Record<string, unknown>;
  clientId: string;
  /** False: answer as if written, change nothing (the `discardWrite` fault). */
  apply?: boolean;
}

/** An API write: replaces all fields under optimistic locking (the seed's "Version Control Ignorance" trap). */
export function writeObject(ctx: EmulatorContext, write: ObjectWrite): ConfigObject {
  const current = findObject(ctx, write.type, write.id);
  requireVersion(ctx.state.versionRuleOf(write.type), current.version, write.version);
  const next: ConfigObject = {
    ...current,
    version: current.version + 1,
    fields: write.fields,
    modifiedBy: { kind: 'client', id: write.clientId },
  };
  if (write.apply === false) return { ...next, lastModifiedTime: new Date().toISOString() };
  return store(ctx, next);
}

/** A human saving in the Genesys UI, outside the gate (the seed's "Admin Override" trap): merges, bumps the version. */
export function editInUi(ctx: EmulatorContext, type: string, id: string, user: string, fields: Record<string, unknown>): ConfigObject {
  const current = findObject(ctx, type, id);
  return store(ctx, {
    ...current,
    version: current.version + 1,
    fields: { ...current.fields, ...fieldsOf(fields) },
    modifiedBy: { kind: 'user', id: user },
  });
}

export interface ObjectSeed {
  version: number;
  fields: Record<string, unknown>;
  lastModifiedTime?: string;
  modifiedBy?: Modifier;
}

/** The admin API's create-or-replace: no version check, no webhook. */
export function seedObject(ctx: EmulatorContext, type: string, id: string, seed: ObjectSeed): ConfigObject {
  return store(
    ctx,
    {
      id,
      type,
      version: seed.version,
      fields: seed.fields,
      modifiedBy: seed.modifiedBy ?? { kind: 'user', id: 'emulator-seed' },
      lastModifiedTime: '',
      changeSeq: 0,
    },
    seed.lastModifiedTime,
  );
}

/** Objects changed at or after `sinceMs`, oldest first (the heartbeat poll of change-gate Edge Case 3). */
export function listChangedSince(ctx: EmulatorContext, sinceMs: number | undefined): ConfigObject[] {
  return [...ctx.state.objects.values()]
    .filter((object) => sinceMs === undefined || Date.parse(object.lastModifiedTime) >= sinceMs)
    .sort((a, b) => Date.parse(a.lastModifiedTime) - Date.parse(b.lastModifiedTime) || a.changeSeq - b.changeSeq);
}

function requireVersion(rule: VersionRule, currentVersion: number, sentVersion: number): void {
  const expected = rule === 'increment' ? currentVersion + 1 : currentVersion;
  if (sentVersion === expected) return;
  throw new HttpError(
    409,
    'conflict',
    `Version ${sentVersion} does not match: the object is at version ${currentVersion} and this type expects ` +
      (rule === 'increment' ? 'current + 1' : 'the current version'),
    { currentVersion },
  );
}

function store(ctx: EmulatorContext, object: ConfigObject, lastModifiedTime?: string): ConfigObject {
  ctx.state.changeSeq += 1;
  const stored: ConfigObject = {
    ...object,
    lastModifiedTime: lastModifiedTime ?? new Date().toISOString(),
    changeSeq: ctx.state.changeSeq,
  };
  ctx.state.objects.set(objectKey(stored.type, stored.id), stored);
  return stored;
}
