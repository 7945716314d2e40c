/**
 * Planning a change: the worker's policy for the target type, and the plan itself: read the live object, diff the
 * desired fields against it, and hash the payload that approvers sign (canonical JSON, so the same payload always
 * has the same hash whatever the key order of the submitted file).
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { targetAdapter } from '../genesys/adapters';
import { toActivityFailure } from '../genesys/errors';
import { targetTypePolicy } from '../platform/config';
import { canonicalJson } from '../workflows/canonical-json';
import { METADATA_KEYS, type ChangePolicy, type LiveCheck, type Plan, type VersionRule } from '../workflows/change-messages';
import { applyChanges, diffFields, divergedFields, type FieldChange, type Fields } from '../workflows/config-merge';
import { FailureType } from '../workflows/failures';
import type { TargetRef } from '../workflows/workflow-ids';
import type { ActivityDeps } from './deps';
import { readSnapshot, whileHeartbeating } from './genesys-calls';

/** sha256 hex of canonicalJson({ target, baseVersion, payload }): binds an approval to one exact payload on one
 * exact base version of one object. */
export function payloadHash(target: TargetRef, baseVersion: number, payload: Fields): string {
  return createHash('sha256').update(canonicalJson({ target: { type: target.type, id: target.id }, baseVersion, payload }), 'utf8').digest('hex');
}

/** How the plan's write is protected, in words CI posts next to the diff. */
export function lockOf(type: string, versionRule: VersionRule): Pick<Plan, 'versionRule' | 'lock'> {
  const lock =
    versionRule === 'none'
      ? `the platform offers no optimistic lock for ${type} (last writer wins): Tollgate reads it, compares it with this plan's base state, writes, and reads it back`
      : versionRule === 'current'
        ? `optimistic lock: the write carries the current version; a stale one is refused (409 or 400) and re-merged`
        : `optimistic lock: the write carries the current version + 1; a stale one is refused (409) and re-merged`;
  return { versionRule, lock };
}

export interface LiveCheckRequest {
  target: TargetRef;
  versionRule: VersionRule;
  /** The plan's diff: a field it touches that now holds neither its old nor its new value moved under the plan. */
  diff: FieldChange[];
}

export interface PlanRequest {
  target: TargetRef;
  desired: Fields;
  replace?: boolean;
}

export function createPlanActivities(deps: Pick<ActivityDeps, 'config' | 'genesys' | 'logger'>) {
  return {
    /** The approvers, the required count, the TTL and the target type's rules come from the worker's config. */
    async loadChangePolicy(type: string): Promise<ChangePolicy> {
      const gate = deps.config.changeGate;
      const policy = targetTypePolicy(deps.config, type);
      return {
        approvers: [...gate.approvers],
        requiredApprovals: gate.requiredApprovals,
        approvalTtlMs: gate.approvalTtlMs,
        // A real Platform API type has its own rule; the seeds' objects follow the type's setting.
        versionRule: targetAdapter(type).versionRule ?? policy.versionRule,
        onDrift: policy.onDrift,
        auditWaitMs: gate.auditWaitMs,
        pullRequestRecheckMs: gate.github?.recheckEveryMs ?? 10 * 60_000,
      };
    },

    /** Genesys task queue: one GET. A missing object fails non-retryably (GenesysNotFoundError). */
    async planChange(request: PlanRequest): Promise<Plan> {
      const adapter = targetAdapter(request.target.type);
      const invalid = Object.keys(request.desired).filter((key) => METADATA_KEYS.includes(key) || adapter.serverManaged.includes(key));
      if (invalid.length > 0) {
        throw ApplicationFailure.nonRetryable(`a change cannot set fields the server manages: ${invalid.join(', ')}`, FailureType.InvalidChange);
      }
      const notWritable = adapter.writable ? Object.keys(request.desired).filter((key) => !adapter.writable!.includes(key)) : [];
      if (notWritable.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `a change of ${request.target.type} may set only ${adapter.writable!.join(', ')}; not ${notWritable.join(', ')}`,
          FailureType.InvalidChange,
        );
      }
      let current;
      try {
        current = await whileHeartbeating(() => readSnapshot(deps.genesys, request.target));
      } catch (error) {
        throw toActivityFailure(error);
      }
      const replace = request.replace ?? false;
      const diff = diffFields(current.fields, request.desired, replace);
      const payload = applyChanges(current.fields, diff);
      return {
        target: request.target,
        baseVersion: current.version,
        baseFields: current.fields,
        desired: request.desired,
        replace,
        diff,
        payload,
        payloadHash: payloadHash(request.target, current.version, payload),
        plannedAt: new Date().toISOString(),
        ...lockOf(request.target.type, adapter.versionRule ?? targetTypePolicy(deps.config, request.target.type).versionRule),
      };
    },

    /**
     * Genesys task queue: one GET. Whether the live object moved under a plan awaiting approval: its version now, and
     * the fields the plan touches that someone changed since (a stale plan: its approval is refused). Only the
     * version, its author and field names go back to the workflow, never the object's fields.
     */
    async checkLiveObject(request: LiveCheckRequest): Promise<LiveCheck> {
      let current;
      try {
        current = await whileHeartbeating(() => readSnapshot(deps.genesys, request.target));
      } catch (error) {
        throw toActivityFailure(error);
      }
      const by = current.modifiedBy;
      return {
        version: current.version,
        versioned: request.versionRule !== 'none',
        ...(current.lastModifiedTime ? { lastModifiedTime: current.lastModifiedTime } : {}),
        ...(by ? { modifiedBy: `${by.kind === 'client' ? 'OAuth client' : by.kind} ${by.name ?? by.id}` } : {}),
        changedFields: divergedFields(current.fields, request.diff),
        checkedAt: new Date().toISOString(),
      };
    },
  };
}
