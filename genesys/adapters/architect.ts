/**
 * Architect objects: IVRs (`/api/v2/architect/ivrs/{id}`), schedules (`/architect/schedules/{id}`), schedule groups
 * (`/architect/schedulegroups/{id}`) and emergency groups (`/architect/emergencygroups/{id}`). Versioned: the PUT body
 * carries the object's *current* version and the server assigns the next; a stale one is a 409 ("The version number of
 * the modified resource must match the version number in the database.") or a 400 ("… does not match the current
 * version …"). The server manages id, version, the created/modified stamps and apps, state and selfUri.
 */
import { platformAdapter, seg, type Modifier, type TargetAdapter } from './target-adapter';

export const ARCHITECT_SERVER_MANAGED = ['id', 'version', 'dateCreated', 'dateModified', 'modifiedBy', 'createdBy', 'state', 'modifiedByApp', 'createdByApp', 'selfUri'] as const;

/** Who last wrote it, as far as the object says: an app (OAuth client) writing as itself, else a person. */
function architectModifier(body: Record<string, unknown>): Modifier | undefined {
  const by = typeof body.modifiedBy === 'string' ? body.modifiedBy : undefined;
  const app = typeof body.modifiedByApp === 'string' ? body.modifiedByApp : undefined;
  if (app !== undefined && (by === undefined || by === app)) return { kind: 'client', id: app };
  return by === undefined ? undefined : { kind: 'user', id: by };
}

function architect(type: string, collection: string, entityType: string): TargetAdapter {
  return platformAdapter({
    type,
    path: (id) => `/api/v2/architect/${collection}/${seg(id)}`,
    writeMethod: 'PUT',
    versioned: true,
    audit: { serviceName: 'Architect', entityType },
    serverManaged: ARCHITECT_SERVER_MANAGED,
    modifiedBy: architectModifier,
  });
}

export const architectAdapters: TargetAdapter[] = [
  architect('architect.ivr', 'ivrs', 'IVR'),
  architect('architect.schedule', 'schedules', 'Schedule'),
  architect('architect.schedulegroup', 'schedulegroups', 'ScheduleGroup'),
  architect('architect.emergencygroup', 'emergencygroups', 'EmergencyGroup'),
];
