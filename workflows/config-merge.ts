/**
 * The pure core of the change gate: field diffs and the 3-way re-merge that Edge Case 1 and the
 * "Version Control Ignorance" trap ask for. Deterministic and dependency-free, so workflow code, activities and the
 * CLI all compute exactly the same thing.
 *
 * A configuration object's fields are its top-level keys (metadata keys excluded). A field is the unit of a
 * change: its value is replaced as a whole (no deep merge inside a field), and a desired value of `null` removes
 * the field (top-level JSON Merge Patch, RFC 7396).
 */
import { canonicalJson } from './canonical-json';

/** One field a plan changes. `from` absent: the field did not exist. `to` absent: the plan removes it. */
export interface FieldChange {
  field: string;
  from?: unknown;
  to?: unknown;
}

export type Fields = Record<string, unknown>;

export function valuesEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** The fields a desired state changes on a base. `replace`: the desired fields are the whole new field set (a
 * revert to the last approved state); otherwise they are a patch and a `null` removes a field. */
export function diffFields(base: Fields, desired: Fields, replace = false): FieldChange[] {
  const changes: FieldChange[] = [];
  const fields = replace ? new Set([...Object.keys(base), ...Object.keys(desired)]) : new Set(Object.keys(desired));
  for (const field of [...fields].sort()) {
    const from = has(base, field) ? base[field] : undefined;
    const wanted = has(desired, field) ? desired[field] : undefined;
    const to = wanted === null || wanted === undefined ? undefined : wanted;
    if (valuesEqual(from, to)) continue;
    const change: FieldChange = { field };
    if (from !== undefined) change.from = from;
    if (to !== undefined) change.to = to;
    changes.push(change);
  }
  return changes;
}

/** Applies a plan's changes onto the object as it is now: the fields the plan does not touch keep their current
 * values (Edge Case 1: "no data is lost"). */
export function applyChanges(current: Fields, changes: readonly FieldChange[]): Fields {
  const result: Fields = { ...current };
  for (const change of changes) {
    if (change.to === undefined) delete result[change.field];
    else result[change.field] = change.to;
  }
  return sortedFields(result);
}

/** Fields the plan changes that someone else changed since the plan, to a value that is neither the plan's base
 * nor its target. Writing over them would silently discard that change, so the change stops as diverged. */
export function divergedFields(current: Fields, changes: readonly FieldChange[]): string[] {
  return changes
    .filter((change) => {
      const now = has(current, change.field) ? current[change.field] : undefined;
      return !valuesEqual(now, change.from) && !valuesEqual(now, change.to);
    })
    .map((change) => change.field);
}

/** The changes that undo `changes` (a rollback change restores the pre-deploy values of exactly these fields). */
export function restoringPatch(changes: readonly FieldChange[], preDeploy: Fields): Fields {
  const patch: Fields = {};
  for (const change of changes) patch[change.field] = has(preDeploy, change.field) ? preDeploy[change.field] : null;
  return patch;
}

/**
 * The seed's canary check: which fields of what we wrote are not what Genesys Cloud holds. If the object is still
 * at the version our write produced, it must be exactly what we wrote, every field. If someone wrote after us
 * (their change is audited as drift on its own), only the fields this change touches are ours to check. An object
 * without a version can never be known to be "still ours": only the fields this change touches are checked.
 */
export function readBackMismatch(
  readBack: { version: number; fields: Fields },
  written: { version: number; fields: Fields },
  changes: readonly Pick<FieldChange, 'field'>[],
  versioned = true,
): string[] {
  const fields =
    versioned && readBack.version === written.version
      ? new Set([...Object.keys(readBack.fields), ...Object.keys(written.fields)])
      : new Set(changes.map((c) => c.field));
  return [...fields].filter((field) => !valuesEqual(valueOf(readBack.fields, field), valueOf(written.fields, field))).sort();
}

/**
 * A rollback that respects people: each field this change touched goes back to its value before the write (`base`)
 * only while it still holds what the gate wrote; a field someone changed after the write keeps their value, and
 * fields the change did not touch keep whatever they hold.
 */
export function restoreUntouchedByPeople(current: Fields, touched: readonly string[], written: Fields, base: Fields): Fields {
  const result: Fields = { ...current };
  for (const field of touched) {
    if (!valuesEqual(valueOf(current, field), valueOf(written, field))) continue;
    if (has(base, field)) result[field] = base[field];
    else delete result[field];
  }
  return sortedFields(result);
}

/** The changes that undo `changes`. */
export function invertChanges(changes: readonly FieldChange[]): FieldChange[] {
  return changes.map((change) => {
    const inverse: FieldChange = { field: change.field };
    if (change.to !== undefined) inverse.from = change.to;
    if (change.from !== undefined) inverse.to = change.from;
    return inverse;
  });
}

export function fieldsEqual(a: Fields, b: Fields): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function sortedFields(fields: Fields): Fields {
  return Object.fromEntries(Object.keys(fields).sort().map((key) => [key, fields[key]]));
}

function valueOf(object: Fields, key: string): unknown {
  return has(object, key) ? object[key] : undefined;
}

function has(object: Fields, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}
