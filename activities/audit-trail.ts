/**
 * Drift of real Platform API objects, from Genesys Cloud's own Audit API (issue 11): the heartbeat's poll of
 * `POST /api/v2/audits/query/realtime` since a cursor stored in PostgreSQL (older than 14 days: the asynchronous
 * query), every page, every protected service; each change becomes the same `audit:<type>:<id>:<version>` workflow the
 * seeds' webhook and poll start, so a change found twice (poll and notification channel, or two overlapping polls)
 * is audited once.
 *
 * Attribution comes from the entry: a `user` is a person (drift); a `client` alone is an OAuth client acting as itself
 * — another client's change is drift, our own client's change is drift too unless the object's ledger says an
 * approved deploy of ours made it (the seed's "Admin Override" trap, with the gate's own credentials).
 */
import { startAudit } from '../client/change-gate';
import { PLATFORM_TARGET_TYPES, adapterForEntityType, targetAdapter, type TargetAdapter } from '../genesys/adapters';
import { auditChangesBetween, type AuditChange } from '../genesys/audit-queries';
import { toActivityFailure } from '../genesys/errors';
import { tollgatePool } from '../platform/tollgate-database';
import type { AuditInput, AuditSource } from '../workflows/audit-messages';
import { isValidTargetId } from '../workflows/workflow-ids';
import { heartbeat } from './activity-context';
import { activityLogger } from './activity-logger';
import type { ActivityDeps } from './deps';

export interface AuditTrailPollResult {
  enabled: boolean;
  since?: string;
  until?: string;
  changesFound: number;
  auditsStarted: number;
  alreadyAudited: number;
}

/** The target types whose drift the Audit API reports: the configured ones, else every supported real type. */
export function auditedTypes(config: ActivityDeps['config']): TargetAdapter[] {
  const types = config.changeGate.auditTrail.types ?? PLATFORM_TARGET_TYPES;
  return types.map((type) => targetAdapter(type)).filter((adapter) => adapter.audit !== undefined);
}

/** The audit workflow's input for one Audit API change, or undefined when it is not about a protected object (or it
 * is a creation: the gate protects objects that exist, and creating one changes none of them). */
export function auditInputFromChange(change: AuditChange, adapters: TargetAdapter[], ourClientId: string, source: AuditSource): AuditInput | undefined {
  if (change.action.toLowerCase() === 'create') return undefined;
  const adapter = adapterForEntityType(change.entityType);
  if (!adapter || !adapters.includes(adapter)) return undefined;
  const id = adapter.targetIdOf(change.entityId, change.context);
  if (id === undefined || !isValidTargetId(adapter.type, id)) return undefined;
  // A versioned object's entry names the version it produced; without one, the change's time identifies it.
  const versionChange = change.propertyChanges.find((property) => property.property === 'version');
  const produced = adapter.versionRule === 'current' && versionChange ? Number(versionChange.newValues[0]) : NaN;
  const byVersion = Number.isInteger(produced) && produced > 0;
  const byUs = change.user === undefined && change.clientId === ourClientId;
  return {
    type: adapter.type,
    id,
    version: byVersion ? produced : Date.parse(change.at),
    lastModifiedTime: change.at,
    modifiedBy: change.user ? { kind: 'user', id: change.user.id, ...(change.user.name ? { name: change.user.name } : {}) } : { kind: 'client', id: change.clientId ?? 'unknown' },
    source,
    ...(change.entryId ? { eventId: change.entryId } : {}),
    byUs,
    match: byVersion ? 'version' : 'time',
    action: change.action,
  };
}

/** Starts (or finds) the audit of each change; the same change again is a no-op. */
export async function auditChanges(
  deps: Pick<ActivityDeps, 'temporal' | 'config'>,
  taskQueue: string,
  changes: AuditChange[],
  source: AuditSource,
  onEach: () => void = () => undefined,
): Promise<{ auditsStarted: number; alreadyAudited: number; relevant: number }> {
  const adapters = auditedTypes(deps.config);
  let auditsStarted = 0;
  let alreadyAudited = 0;
  let relevant = 0;
  for (const change of changes) {
    const input = auditInputFromChange(change, adapters, deps.config.genesys.clientId, source);
    if (!input) continue;
    relevant += 1;
    if ((await startAudit(deps.temporal, taskQueue, input)) === 'started') auditsStarted += 1;
    else alreadyAudited += 1;
    onEach();
  }
  return { auditsStarted, alreadyAudited, relevant };
}

/** One cursor per deployment (task queue), Genesys org (API base) and OAuth client. */
function cursorScope(config: ActivityDeps['config'], taskQueue: string): string {
  return `${taskQueue}|${config.genesys.apiBase}|${config.genesys.clientId}`;
}

export function createAuditTrailActivities(deps: Pick<ActivityDeps, 'config' | 'logger' | 'temporal' | 'genesys' | 'databaseUrl'>) {
  return {
    /**
     * Genesys task queue (every request takes a permit from the shared budget). Polls the Audit API of every service
     * a protected type belongs to, from the stored cursor (less an overlap: the platform indexes entries with a
     * delay) to now, starts an audit of each change, and moves the cursor on once every service was read.
     */
    async pollAuditTrail(request: { taskQueue: string }): Promise<AuditTrailPollResult> {
      const settings = deps.config.changeGate.auditTrail;
      const adapters = auditedTypes(deps.config);
      if (!settings.poll || adapters.length === 0) return { enabled: false, changesFound: 0, auditsStarted: 0, alreadyAudited: 0 };
      const pool = tollgatePool(deps.databaseUrl);
      const scope = cursorScope(deps.config, request.taskQueue);
      const now = Date.now();
      const stored = await pool.query<{ position: Date }>('SELECT position FROM tollgate.genesys_audit_cursors WHERE scope = $1', [scope]);
      const cursor = stored.rows[0]?.position.getTime() ?? now - deps.config.changeGate.heartbeat.lookbackMs;
      const from = new Date(cursor - settings.overlapMs);
      const to = new Date(now);

      const services = [...new Set(adapters.map((adapter) => adapter.audit!.serviceName))];
      let changesFound = 0;
      let auditsStarted = 0;
      let alreadyAudited = 0;
      for (const serviceName of services) {
        let changes: AuditChange[];
        try {
          changes = await auditChangesBetween(deps.genesys, { serviceName, from, to }, { now, onWait: () => heartbeat('waiting for an asynchronous audit query') });
        } catch (error) {
          throw toActivityFailure(error);
        }
        const counted = await auditChanges(deps, request.taskQueue, changes, 'audit_poll', () => heartbeat());
        changesFound += counted.relevant;
        auditsStarted += counted.auditsStarted;
        alreadyAudited += counted.alreadyAudited;
        heartbeat(`polled ${serviceName}`);
      }
      await pool.query(
        `INSERT INTO tollgate.genesys_audit_cursors (scope, position) VALUES ($1, $2)
         ON CONFLICT (scope) DO UPDATE SET position = GREATEST(tollgate.genesys_audit_cursors.position, EXCLUDED.position), updated_at = now()`,
        [scope, to],
      );
      if (auditsStarted > 0) activityLogger(deps.logger).info({ auditsStarted, alreadyAudited, since: from.toISOString() }, 'audit trail poll found changes');
      return { enabled: true, since: from.toISOString(), until: to.toISOString(), changesFound, auditsStarted, alreadyAudited };
    },
  };
}
