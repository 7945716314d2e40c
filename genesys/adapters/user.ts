/**
 * Users: `GET /api/v2/users/{id}` and `PATCH /api/v2/users/{id}` with the user's *current* `version` (409, or 400
 * "does not match the current version", when stale). The gate manages routing-related fields only — ACD auto-answer,
 * group membership (group-based routing: bullseye rings, conditional group routing, member groups) and locations —
 * so that it can never become a way to change someone's name, e-mail, password or roles. A change naming any other
 * field is refused at planning; the PATCH carries only these fields, so the rest of the user is never written.
 *
 * `groups` and `locations` are expand-only: `GET /api/v2/users/{id}` leaves them out unless `expand=groups,locations`
 * names them (and a PATCH's answer never carries them). Every read — plan, live check, deploy read, read-back,
 * settling and audit reads — goes through `read`, which asks for both; without it a change of either would plan
 * against nothing, and its read-back would miss the edit it made.
 */
import { platformAdapter, seg, type TargetAdapter } from './target-adapter';

export const USER_ROUTING_FIELDS = ['acdAutoAnswer', 'groups', 'locations'] as const;

/** The routing fields a user read carries only when `expand` names them. */
export const USER_EXPAND_FIELDS = ['groups', 'locations'] as const;

export const userAdapter: TargetAdapter = platformAdapter({
  type: 'user',
  path: (id) => `/api/v2/users/${seg(id)}`,
  readQuery: `?expand=${USER_EXPAND_FIELDS.join(',')}`,
  writeMethod: 'PATCH',
  versioned: true,
  audit: { serviceName: 'Directory', entityType: 'User' },
  serverManaged: ['id', 'version', 'selfUri'],
  writable: USER_ROUTING_FIELDS,
});
