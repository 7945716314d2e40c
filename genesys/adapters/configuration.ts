/**
 * The seeds' configuration objects (`/api/v2/configuration/{type}/{id}`, types such as `ivr` or `trunk`): every type
 * that is not a real Platform API type. Their version rule is the target type's setting (`TOLLGATE_TARGETS`:
 * `increment`, the seed's current + 1, or `current`), the metadata keys are the server's, and `modifiedBy` names the
 * OAuth client of each write. Their changes are audited by the signed `configuration.updated` webhook and the
 * heartbeat's `GET /api/v2/configuration?lastModifiedTime=…` poll, not by the Audit API.
 */
import type { GenesysClient } from '../client';
import { METADATA_KEYS, objectFields, type ConfigObject } from '../schemas';
import type { TargetAdapter, TargetRead } from './target-adapter';

function toRead(object: ConfigObject): TargetRead {
  return { version: object.version, lastModifiedTime: object.lastModifiedTime, modifiedBy: object.modifiedBy, fields: objectFields(object) };
}

export function configurationAdapter(type: string): TargetAdapter {
  return {
    type,
    contract: 'configuration',
    serverManaged: METADATA_KEYS,
    attributesWrites: true,
    async read(genesys: GenesysClient, id: string) {
      return toRead(await genesys.getObject(type, id));
    },
    async write(genesys: GenesysClient, id: string, fields: Record<string, unknown>, version: number | undefined) {
      if (version === undefined) throw new TypeError(`a write of ${type}/${id} needs a version`);
      return toRead(await genesys.writeObject(type, id, { ...fields, version }));
    },
    auditEntityId: (id) => id,
    targetIdOf: (entityId) => entityId,
  };
}
