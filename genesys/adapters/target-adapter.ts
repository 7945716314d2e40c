/**
 * What Tollgate needs to know about one kind of Genesys Cloud object to plan, write, verify and audit it: its read
 * and write calls, its version rule, the fields the server manages (never planned, written or compared), the fields
 * a change may touch, how its own writes show in the audit trail, and how a version conflict is recognised (a 409, or
 * a 400 saying "does not match the current version": genesys/client.ts maps both to GenesysConflictError).
 *
 * One module per kind (genesys/adapters/*.ts); `targetAdapter(type)` in index.ts picks one by target type.
 */
import { z } from 'zod';
import type { GenesysClient } from '../client';

/**
 * `increment`: send current + 1 (the seeds' rule). `current`: send the current version, the server assigns the next
 * (Genesys Cloud's own rule for versioned objects). `none`: the platform has no optimistic lock for the type;
 * Tollgate's own guard (read, compare with the plan's base state, write, read back) is all there is.
 */
export type VersionRule = 'increment' | 'current' | 'none';

export interface Modifier {
  kind: 'client' | 'user';
  id: string;
  name?: string;
}

/** One read of an object, fields separated from what the server manages. Unversioned objects read as version 0. */
export interface TargetRead {
  version: number;
  lastModifiedTime: string;
  modifiedBy?: Modifier;
  fields: Record<string, unknown>;
}

/** Where the object's changes show in the Audit API and on notification topics. */
export interface AuditIdentity {
  serviceName: string;
  entityType: string;
}

export interface TargetAdapter {
  readonly type: string;
  /** `configuration`: the seeds' contract (`/api/v2/configuration`); `platform`: a real Platform API object. */
  readonly contract: 'configuration' | 'platform';
  /** The type's own rule; undefined for the seeds' objects, whose rule is the target type's setting. */
  readonly versionRule?: Exclude<VersionRule, 'increment'>;
  readonly audit?: AuditIdentity;
  /** Fields the server manages: never in a plan, a write or a comparison. */
  readonly serverManaged: readonly string[];
  /** When set, the only fields a change may touch (a user: routing-related ones); the rest is never read into a plan. */
  readonly writable?: readonly string[];
  /** Whether a read's `modifiedBy` reliably names the OAuth client of our own writes. */
  readonly attributesWrites: boolean;
  read(genesys: GenesysClient, id: string): Promise<TargetRead>;
  /** Writes the whole field set (merged by the caller); `version` per the rule, undefined for `none`. */
  write(genesys: GenesysClient, id: string, fields: Record<string, unknown>, version: number | undefined): Promise<TargetRead>;
  /** The entity id the audit trail and topics use for this target id. */
  auditEntityId(id: string): string;
  /** The target id of an audit entry's entity (a row needs its table from the entry's context). */
  targetIdOf(entityId: string, context: Record<string, string> | undefined): string | undefined;
}

export const AnyObjectSchema = z.record(z.string(), z.unknown());

/** The fields of a body without the server-managed ones (and, when given, only the writable ones). */
export function fieldsOf(body: Record<string, unknown>, serverManaged: readonly string[], writable?: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(body).filter(([key]) => !serverManaged.includes(key) && (writable === undefined || writable.includes(key))),
  );
}

export interface PlatformAdapterSpec {
  type: string;
  /** The object's path. */
  path(id: string): string;
  /** Appended to a read's path (a data table row reads in full only with `showbrief=false`; a user's groups and
   * locations come only with `expand=groups,locations`). */
  readQuery?: string;
  writeMethod: 'PUT' | 'PATCH';
  versioned: boolean;
  audit: AuditIdentity;
  serverManaged: readonly string[];
  writable?: readonly string[];
  /** The body of a write, from the fields (e.g. a row's `key`). */
  writeBody?(id: string, fields: Record<string, unknown>): Record<string, unknown>;
  lastModifiedTime?(body: Record<string, unknown>): string;
  modifiedBy?(body: Record<string, unknown>): Modifier | undefined;
  auditEntityId?(id: string): string;
  targetIdOf?(entityId: string, context: Record<string, string> | undefined): string | undefined;
}

/** A real Platform API object: GET its path, PUT (or PATCH) the field set with the current version when versioned. */
export function platformAdapter(spec: PlatformAdapterSpec): TargetAdapter {
  const toRead = (body: Record<string, unknown>): TargetRead => ({
    version: spec.versioned && typeof body.version === 'number' ? body.version : 0,
    lastModifiedTime: spec.lastModifiedTime?.(body) ?? (typeof body.dateModified === 'string' ? body.dateModified : ''),
    modifiedBy: spec.modifiedBy?.(body),
    fields: fieldsOf(body, spec.serverManaged, spec.writable),
  });
  return {
    type: spec.type,
    contract: 'platform',
    versionRule: spec.versioned ? 'current' : 'none',
    audit: spec.audit,
    serverManaged: spec.serverManaged,
    writable: spec.writable,
    attributesWrites: false,
    async read(genesys, id) {
      return toRead(await genesys.request('GET', `${spec.path(id)}${spec.readQuery ?? ''}`, AnyObjectSchema));
    },
    async write(genesys, id, fields, version) {
      const own = fieldsOf(fields, spec.serverManaged, spec.writable);
      const body = { ...(spec.writeBody?.(id, own) ?? own), ...(spec.versioned ? { version } : {}) };
      return toRead(await genesys.request(spec.writeMethod, spec.path(id), AnyObjectSchema, body));
    },
    auditEntityId: spec.auditEntityId ?? ((id) => id),
    targetIdOf: spec.targetIdOf ?? ((entityId) => entityId),
  };
}

/** A path segment, URL-encoded: ids come from CLI input and audit entries. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}
