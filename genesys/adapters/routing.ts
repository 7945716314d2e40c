/**
 * Routing objects without a version: queues (`PUT /api/v2/routing/queues/{id}`, body `QueueRequest`) and wrap-up codes
 * (`PUT /api/v2/routing/wrapupcodes/{id}`). The platform offers no optimistic lock for them — the last writer wins —
 * so Tollgate guards them itself: read, compare with the plan's base state, write, read back (workflows/change.ts).
 * The server manages ids, the created/modified stamps, the member counts and selfUri.
 */
import { platformAdapter, seg, type TargetAdapter } from './target-adapter';

const modifiedByUser = (body: Record<string, unknown>) => (typeof body.modifiedBy === 'string' ? { kind: 'user' as const, id: body.modifiedBy } : undefined);

export const routingAdapters: TargetAdapter[] = [
  platformAdapter({
    type: 'routing.queue',
    path: (id) => `/api/v2/routing/queues/${seg(id)}`,
    writeMethod: 'PUT',
    versioned: false,
    audit: { serviceName: 'Routing', entityType: 'Queue' },
    serverManaged: ['id', 'dateCreated', 'dateModified', 'modifiedBy', 'createdBy', 'memberCount', 'userMemberCount', 'joinedMemberCount', 'selfUri'],
    modifiedBy: modifiedByUser,
  }),
  platformAdapter({
    type: 'routing.wrapupcode',
    path: (id) => `/api/v2/routing/wrapupcodes/${seg(id)}`,
    writeMethod: 'PUT',
    versioned: false,
    audit: { serviceName: 'Routing', entityType: 'WrapupCode' },
    serverManaged: ['id', 'dateCreated', 'dateModified', 'createdBy', 'modifiedBy', 'selfUri'],
    modifiedBy: modifiedByUser,
  }),
];
