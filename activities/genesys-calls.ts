/**
 * What every Genesys-calling activity of the change gate shares: reading an object into a snapshot, and
 * heartbeating while a call is in flight, so that a worker that dies mid-call has its activity retried within the
 * heartbeat timeout rather than after the whole start-to-close timeout (the restarted-worker case of issue 3).
 */
import { targetAdapter, type TargetRead } from '../genesys/adapters';
import type { GenesysClient } from '../genesys/client';
import type { ObjectSnapshot } from '../workflows/change-messages';
import type { TargetRef } from '../workflows/workflow-ids';
import { currentActivity } from './activity-context';

export const HEARTBEAT_EVERY_MS = 2_000;

/** One read through the target type's adapter (genesys/adapters/): a seed configuration object or a real one. */
export async function readSnapshot(genesys: GenesysClient, target: TargetRef): Promise<ObjectSnapshot> {
  return toSnapshot(target, await targetAdapter(target.type).read(genesys, target.id));
}

export function toSnapshot(target: TargetRef, read: TargetRead): ObjectSnapshot {
  return {
    target,
    version: read.version,
    lastModifiedTime: read.lastModifiedTime,
    ...(read.modifiedBy ? { modifiedBy: read.modifiedBy } : {}),
    fields: sortFields(read.fields),
  };
}

/** Runs `work`, heartbeating every 2 s while it runs (no-op outside an activity, e.g. in unit tests, and in a local
 * activity, which has no heartbeat: the workflow task it runs in is kept alive by the worker instead). */
export async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  const activity = currentActivity();
  if (!activity || activity.info.isLocal) return work();
  const timer = setInterval(() => activity.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

function sortFields(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(fields).sort().map((key) => [key, fields[key]]));
}
