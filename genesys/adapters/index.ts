/**
 * The target adapters by target type: the real Platform API types, and the seeds' configuration objects for every
 * other type (`ivr`, `trunk`, …), which keep working exactly as the seeds describe.
 */
import { architectAdapters } from './architect';
import { configurationAdapter } from './configuration';
import { datatableRowAdapter } from './datatable-row';
import { routingAdapters } from './routing';
import type { TargetAdapter } from './target-adapter';
import { userAdapter } from './user';

export type { AuditIdentity, Modifier, TargetAdapter, TargetRead, VersionRule } from './target-adapter';

const PLATFORM_ADAPTERS: ReadonlyMap<string, TargetAdapter> = new Map(
  [...architectAdapters, ...routingAdapters, datatableRowAdapter, userAdapter].map((adapter) => [adapter.type, adapter]),
);

/** The real Platform API target types Tollgate supports. */
export const PLATFORM_TARGET_TYPES: readonly string[] = [...PLATFORM_ADAPTERS.keys()];

export function isPlatformType(type: string): boolean {
  return PLATFORM_ADAPTERS.has(type);
}

export function targetAdapter(type: string): TargetAdapter {
  return PLATFORM_ADAPTERS.get(type) ?? configurationAdapter(type);
}

/** The adapter whose audit entries carry this entity type. */
export function adapterForEntityType(entityType: string): TargetAdapter | undefined {
  return [...PLATFORM_ADAPTERS.values()].find((adapter) => adapter.audit?.entityType === entityType);
}
