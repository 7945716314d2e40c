/**
 * Shared steps of the tests that drive real Platform API objects through the gate: create an object through the real
 * API (POST on its collection, as the emulator insists), read it as Genesys Cloud has it, edit it outside the gate
 * (`POST /__emulator/ui-edit`, a person or another OAuth client), and read the emulator's audit trail.
 */
import { z } from 'zod';
import type { TargetRef } from '../workflows/workflow-ids';
import { uniqueId, type TestStack } from './harness/stack';

const AnyObject = z.record(z.string(), z.unknown());

/** Unlimited emulator budgets: tests that are not about the budget must not meet the platform's 300/min. */
export const NO_RATE_LIMITS = { rateLimits: { perTokenPerMinute: null, perClientPerMinute: null, windowSeconds: 60, resources: [] } };

const COLLECTIONS: Record<string, string> = {
  'architect.ivr': '/api/v2/architect/ivrs',
  'architect.schedule': '/api/v2/architect/schedules',
  'architect.schedulegroup': '/api/v2/architect/schedulegroups',
  'architect.emergencygroup': '/api/v2/architect/emergencygroups',
  'routing.queue': '/api/v2/routing/queues',
  'routing.wrapupcode': '/api/v2/routing/wrapupcodes',
  user: '/api/v2/users',
};

/** The object's real API path. */
export function platformPath(target: TargetRef): string {
  if (target.type === 'datatable.row') {
    const slash = target.id.indexOf('/');
    return `/api/v2/flows/datatables/${encodeURIComponent(target.id.slice(0, slash))}/rows/${encodeURIComponent(target.id.slice(slash + 1))}`;
  }
  return `${COLLECTIONS[target.type]}/${encodeURIComponent(target.id)}`;
}

/** Creates an object through the real API and returns its target. A row is created in a new table. */
export async function createPlatformObject(stack: TestStack, type: string, body: Record<string, unknown>): Promise<TargetRef> {
  if (type === 'datatable.row') {
    const table = await stack.genesys.request('POST', '/api/v2/flows/datatables', AnyObject, {
      name: uniqueId('table'),
      schema: { type: 'object', properties: { key: { type: 'string' } } },
    });
    const key = String(body.key ?? uniqueId('row'));
    await stack.genesys.request('POST', `/api/v2/flows/datatables/${String(table.id)}/rows`, AnyObject, { ...body, key });
    return { type, id: `${String(table.id)}/${key}` };
  }
  const created = await stack.genesys.request('POST', COLLECTIONS[type], AnyObject, body);
  return { type, id: String(created.id) };
}

/** The query a read needs to show the whole object: a row in full, a user with its expand-only groups and locations. */
const FULL_READ: Record<string, string> = { 'datatable.row': '?showbrief=false', user: '?expand=groups,locations' };

/** The object as the platform has it (a row in full, a user with its groups and locations; `{ plain: true }`: the
 * platform's default answer, without them). */
export async function readPlatformObject(stack: TestStack, target: TargetRef, options: { plain?: boolean } = {}): Promise<Record<string, unknown>> {
  const query = options.plain ? '' : (FULL_READ[target.type] ?? '');
  return stack.genesys.request('GET', `${platformPath(target)}${query}`, AnyObject);
}

/** A change outside the gate: a person in the UI (`user`) or another OAuth client (`client`). */
export async function editOutsideGate(stack: TestStack, target: TargetRef, fields: Record<string, unknown>, who: { user?: string; client?: string } = { user: 'Eve Admin' }) {
  return stack.emulator.admin<Record<string, unknown>>('POST', '/ui-edit', { path: platformPath(target), fields, ...who });
}

/** The object as the emulator stores it, read through the admin API (which faults never touch). */
export async function storedPlatformObject(stack: TestStack, target: TargetRef): Promise<Record<string, unknown> | undefined> {
  const state = await stack.emulator.admin<{ platformObjects: { path: string; object: Record<string, unknown> }[] }>('GET', '/state');
  return state.platformObjects.find((entry) => entry.path === platformPath(target))?.object;
}

export interface EmulatorAuditEntry {
  id: string;
  entityType: string;
  entity: { id: string };
  action: string;
  eventDate: string;
  user?: { id: string; name?: string };
  client?: { id: string };
  propertyChanges: { property: string; oldValues: string[]; newValues: string[] }[];
}

export async function auditEntries(stack: TestStack): Promise<EmulatorAuditEntry[]> {
  return (await stack.emulator.admin<{ entities: EmulatorAuditEntry[] }>('GET', '/audits')).entities;
}
