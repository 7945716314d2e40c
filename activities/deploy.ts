/**
 * The two Genesys calls a deploy is made of. Each activity makes one call (plus, rarely, one settling read), so
 * the Genesys task queue's cluster-wide rate limit counts Genesys requests, and every step of a deploy is visible
 * in the change's history. The loop around them (merge, retry on 409, settle unknown outcomes, verify, roll
 * back) is workflow code: workflows/change.ts.
 */
import { targetAdapter } from '../genesys/adapters';
import { describeActor, queryRealtime } from '../genesys/audit-queries';
import { withCorrelationIds } from '../genesys/correlation';
import { GenesysConflictError, GenesysError, toActivityFailure } from '../genesys/errors';
import type { ObjectSnapshot, WriteOutcome, WriteRequest } from '../workflows/change-messages';
import { fieldsEqual } from '../workflows/config-merge';
import type { TargetRef } from '../workflows/workflow-ids';
import { activityAttempt } from './activity-context';
import { activityLogger } from './activity-logger';
import type { ActivityDeps } from './deps';
import { readSnapshot, toSnapshot, whileHeartbeating } from './genesys-calls';

/** The version a write sends: the seed's `current + 1`, Genesys Cloud's own rule (send the current version), or
 * none (the platform has no optimistic lock for the type). */
export function versionToSend(rule: WriteRequest['versionRule'], baseVersion: number): number | undefined {
  if (rule === 'none') return undefined;
  return rule === 'increment' ? baseVersion + 1 : baseVersion;
}

export function createDeployActivities(deps: Pick<ActivityDeps, 'config' | 'genesys' | 'logger'>) {
  const ourClientId = deps.config.genesys.clientId;

  return {
    /** Genesys task queue: one GET. */
    async readConfigObject(target: TargetRef): Promise<ObjectSnapshot> {
      try {
        return await whileHeartbeating(() => readSnapshot(deps.genesys, target));
      } catch (error) {
        throw toActivityFailure(error);
      }
    },

    /**
     * Genesys task queue: one PUT of the complete field set at the version the type's rule asks for, and with
     * `readBack` one GET after it (the seed's canary check, without a workflow hop between the two requests; each
     * request still takes its own permit from the shared budget). A read-back that fails does not fail the write:
     * the outcome comes without it, and the workflow reads back with an activity of its own — never by sending the
     * write again.
     * - 409 (the seed's "Version Control Ignorance" trap) is returned as `conflict`: the workflow waits, re-reads,
     *   re-merges and tries again (Edge Case 1).
     * - No answer (network error, timeout, 5xx on a write) is returned as `unknown`: the workflow settles it by
     *   reading, never by re-sending blindly.
     * - On a retry of this activity (its worker died after sending), a 409 may be our own earlier attempt having
     *   landed: one read recognises it (the object is at exactly the version our write produces, written by our
     *   OAuth client, with exactly our fields), so the deploy finishes exactly once.
     */
    async writeConfigObject(request: WriteRequest): Promise<WriteOutcome> {
      const { target } = request;
      const version = versionToSend(request.versionRule, request.baseVersion);
      try {
        const { result: written, correlationIds } = await withCorrelationIds(() =>
          whileHeartbeating(() => targetAdapter(target.type).write(deps.genesys, target.id, request.fields, version)),
        );
        const requestId = correlationIds.at(-1);
        const object = toSnapshot(target, written);
        const named = requestId ? { requestId } : {};
        if (!request.readBack) return { outcome: 'written', object, genesysCalls: 1, ...named };
        const readBack = await whileHeartbeating(() => readSnapshot(deps.genesys, target)).catch((error: unknown) => {
          activityLogger(deps.logger).warn({ target, err: (error as Error).message }, 'read-back after the write failed; the workflow reads back on its own');
          return undefined;
        });
        return { outcome: 'written', object, genesysCalls: 2, ...named, ...(readBack ? { readBack } : {}) };
      } catch (error) {
        if (error instanceof GenesysConflictError) {
          if (activityAttempt() > 1) {
            const now = await whileHeartbeating(() => readSnapshot(deps.genesys, target)).catch((readError: unknown) => {
              throw toActivityFailure(readError);
            });
            if (isOurWrite(now, request, ourClientId)) {
              activityLogger(deps.logger).info({ target, version: now.version }, 'write retried after a lost answer: the earlier attempt had landed');
              // That read came after the write landed: it is the read-back too.
              return { outcome: 'written', object: now, genesysCalls: 2, recognisedEarlierAttempt: true, ...(request.readBack ? { readBack: now } : {}) };
            }
            return { outcome: 'conflict', currentVersion: now.version, genesysCalls: 2 };
          }
          return { outcome: 'conflict', currentVersion: error.currentVersion, genesysCalls: 1 };
        }
        if (error instanceof GenesysError && error.outcomeUnknown) {
          activityLogger(deps.logger).warn({ target, err: error.message }, 'write outcome unknown; the workflow settles it by reading');
          return { outcome: 'unknown', error: error.message, genesysCalls: 1 };
        }
        throw toActivityFailure(error);
      }
    },

    /**
     * Genesys task queue: who changed `fields` after the gate's write, for a change that ends diverged. A real type
     * asks the Audit API (the newest change of those fields not made by our client); the seeds' objects, or an audit
     * trail that cannot answer, fall back to what the object says of its last writer.
     */
    async identifyModifier(question: ModifierQuestion): Promise<string> {
      const adapter = targetAdapter(question.target.type);
      if (adapter.audit) {
        try {
          const changes = await whileHeartbeating(() =>
            queryRealtime(deps.genesys, {
              serviceName: adapter.audit!.serviceName,
              from: new Date(Date.parse(question.since) - MODIFIER_LOOKBACK_MS),
              to: new Date(Date.now() + 60_000),
              filters: [
                { property: 'EntityType', value: adapter.audit!.entityType },
                { property: 'EntityId', value: adapter.auditEntityId(question.target.id) },
              ],
            }),
          );
          const theirs = changes
            .filter((change) => change.user !== undefined || change.clientId !== ourClientId)
            .filter((change) => change.propertyChanges.length === 0 || change.propertyChanges.some((property) => question.fields.includes(property.property)))
            .pop();
          if (theirs) return describeActor(theirs);
        } catch (error) {
          activityLogger(deps.logger).warn({ target: question.target, err: (error as Error).message }, 'the audit trail could not say who changed the object');
        }
      }
      const fallback = question.fallback;
      if (fallback) return fallback.kind === 'client' ? `OAuth client ${fallback.id}` : `user ${fallback.name ?? fallback.id}`;
      return 'someone outside the gate (see the audit trail)';
    },

    /**
     * Genesys task queue: one GET that settles a write whose outcome was unknown ("a write whose outcome is unknown
     * is settled by reading"): `landed` (the object is exactly what our write produces), `not_applied` (still at
     * the base version: safe to write again), or `overtaken` (someone wrote since; whether ours landed in between
     * cannot be told, so the workflow re-merges onto what is there and records that version as unconfirmed).
     */
    async settleUnknownWrite(request: WriteRequest): Promise<SettledWrite> {
      let now: ObjectSnapshot;
      try {
        now = await whileHeartbeating(() => readSnapshot(deps.genesys, request.target));
      } catch (error) {
        throw toActivityFailure(error);
      }
      if (isOurWrite(now, request, ourClientId)) return { outcome: 'landed', object: now };
      // Without a version, "not (yet) applied" and "overtaken" look alike: the workflow re-merges onto what is there
      // either way, and records the write as unconfirmed.
      if (request.versionRule === 'none' || now.version === request.baseVersion) return { outcome: 'not_applied', object: now };
      return { outcome: 'overtaken', object: now };
    },
  };
}

export interface ModifierQuestion {
  target: TargetRef;
  /** When the gate's write was recorded: the change looked for came after it. */
  since: string;
  fields: string[];
  /** What the object itself said of its last writer, when the audit trail cannot be asked. */
  fallback?: { kind: string; id: string; name?: string };
}

/** How far before the gate's recorded write a later change may be stamped (clocks, the write's own duration). */
const MODIFIER_LOOKBACK_MS = 2 * 60_000;

export interface SettledWrite {
  outcome: 'landed' | 'not_applied' | 'overtaken';
  object: ObjectSnapshot;
}

/**
 * The object is exactly what this write would have produced: the next version with our fields, and — where the
 * object names its writer reliably (the seeds' objects) — written by our OAuth client. Without a version only the
 * fields can say (and the same fields written by someone else are the same outcome).
 */
export function isOurWrite(object: ObjectSnapshot, request: WriteRequest, clientId: string): boolean {
  if (!fieldsEqual(object.fields, request.fields)) return false;
  if (request.versionRule === 'none') return true;
  if (object.version !== request.baseVersion + 1) return false;
  if (!targetAdapter(request.target.type).attributesWrites) return true;
  return object.modifiedBy?.kind === 'client' && object.modifiedBy.id === clientId;
}
