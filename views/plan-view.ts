/**
 * The plan as a reviewer reads it before approving (the change seed: approvers sign "that exact payload"): a
 * structural diff of the object's fields before and after, with paths into nested objects and arrays, `+` added,
 * `-` removed, `~` changed, each value shown once, long strings shortened, a Terraform-style summary line, the base
 * version and the payload hash, and a warning when the live object has moved since the plan.
 *
 * Three formats: `text` (a terminal), `markdown` (ready to paste into a pull request: a fenced `diff` block, folded
 * into a <details> section when long), `json` (the same entries, for tools). The diff itself is microdiff's.
 */
import diff from 'microdiff';
import type { LiveCheck, Plan } from '../workflows/change-messages';
import { targetAddress } from '../workflows/workflow-ids';

export const PLAN_FORMATS = ['text', 'markdown', 'json'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

/** One line of the plan: a path into the object and what happens there. */
export interface PlanEntry {
  op: 'add' | 'remove' | 'change';
  /** `greeting`, `routing.rules[2].queue`, `labels["a.b"]`. */
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface PlanSummary {
  add: number;
  change: number;
  remove: number;
}

export interface PlanView {
  target: string;
  baseVersion: number;
  payloadHash: string;
  summary: PlanSummary;
  entries: PlanEntry[];
  /** Set when the worker's last read of the live object found it moved since the plan: a newer version, or (types
   * without a version) other fields. `changedFields`: fields this plan touches that someone else changed — then
   * the plan is stale and an approval is refused (`stale_plan`); otherwise the deploy re-merges onto the new state. */
  moved?: { liveVersion: number; changedFields: string[]; checkedAt: string };
  /** The platform offers no optimistic lock for this object type (Tollgate's own guard applies). */
  unversioned?: boolean;
}

export interface RenderOptions {
  /** Show long strings whole instead of shortened. */
  full?: boolean;
  /** Markdown: fold the diff into a <details> section beyond this many lines (default 25). */
  foldAfterLines?: number;
}

/** Strings longer than this are shortened (unless `full`). */
const LONG = 80;

export function planView(plan: Plan, live?: LiveCheck): PlanView {
  const entries: PlanEntry[] = diff(plan.baseFields as Record<string, unknown>, plan.payload as Record<string, unknown>).map((difference) => {
    const path = formatPath(difference.path);
    if (difference.type === 'CREATE') return { op: 'add', path, after: difference.value };
    if (difference.type === 'REMOVE') return { op: 'remove', path, before: difference.oldValue };
    return { op: 'change', path, before: difference.oldValue, after: difference.value };
  });
  entries.sort((a, b) => a.path.localeCompare(b.path, 'en'));
  const summary: PlanSummary = { add: 0, change: 0, remove: 0 };
  for (const entry of entries) summary[entry.op] += 1;
  return {
    target: targetAddress(plan.target),
    baseVersion: plan.baseVersion,
    payloadHash: plan.payloadHash,
    summary,
    entries,
    ...(live && (live.version !== plan.baseVersion || live.changedFields.length > 0)
      ? { moved: { liveVersion: live.version, changedFields: live.changedFields, checkedAt: live.checkedAt } }
      : {}),
    ...(plan.versionRule === 'none' ? { unversioned: true } : {}),
  };
}

/** The warning (or note) about the live object, when it moved since the plan. */
export function movedWarning(view: PlanView): string | undefined {
  const moved = view.moved;
  if (!moved) return undefined;
  const where = view.unversioned ? `${view.target} (as read at ${moved.checkedAt})` : `${view.target} (now version ${moved.liveVersion}, planned on ${view.baseVersion})`;
  if (moved.changedFields.length > 0) {
    return (
      `Warning: ${moved.changedFields.join(', ')} changed on ${where} since this plan: the plan is stale and approving it is refused ` +
      `(stale_plan). Resubmit the change under a new change ID to plan against the current state.`
    );
  }
  return `Note: ${where} has moved since this plan, in fields it does not touch: the deploy re-merges this plan onto the current state.`;
}

export function summaryLine(summary: PlanSummary): string {
  if (summary.add + summary.change + summary.remove === 0) return 'Plan: no changes.';
  return `Plan: ${summary.change} to change, ${summary.add} to add, ${summary.remove} to remove.`;
}

export function renderPlan(view: PlanView, format: PlanFormat, options: RenderOptions = {}): string {
  if (format === 'json') return JSON.stringify(view, null, 2);
  const base = view.unversioned ? 'as read (no version)' : `at version ${view.baseVersion}`;
  const header = [
    `${summaryLine(view.summary)}  ${view.target} ${base}, payload sha256 ${view.payloadHash}`,
    ...(view.moved ? [movedWarning(view)!] : []),
    ...(view.unversioned ? [`Note: Genesys Cloud offers no optimistic lock for this object type; Tollgate re-reads and compares before it writes.`] : []),
  ];
  if (format === 'text') return [...header, ...view.entries.flatMap((entry) => diffLines(entry, options, false)).map((line) => `  ${line}`)].join('\n');

  // Markdown: `diff` highlighting colours `+` and `-` lines; a change is shown as its `-` and `+` pair.
  const lines = view.entries.flatMap((entry) => diffLines(entry, options, true));
  // A value holding a run of backticks must not close the block early: the fence is longer than any run inside.
  const longestRun = Math.max(0, ...lines.map((line) => Math.max(0, ...(line.match(/`+/g) ?? []).map((run) => run.length))));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  const block = [`${fence}diff`, ...lines, fence];
  const fold = options.foldAfterLines ?? 25;
  const body =
    lines.length === 0 ? [] : lines.length > fold ? ['<details>', `<summary>${lines.length} lines — show the plan</summary>`, '', ...block, '', '</details>'] : block;
  const warnings = header.slice(1).flatMap((warning, index) => (index === 0 ? [`> ${warning}`] : ['>', `> ${warning}`]));
  const title = `**${summaryLine(view.summary)}** \`${view.target}\` ${base}, payload sha256 \`${view.payloadHash}\``;
  return [title, ...(warnings.length > 0 ? ['', ...warnings] : []), ...(body.length > 0 ? ['', ...body] : [])].join('\n');
}

/** Text: `~ path: a → b`. Markdown's diff block has no `~`: a change is its `- path: a` and `+ path: b` pair. */
function diffLines(entry: PlanEntry, options: RenderOptions, markdown: boolean): string[] {
  if (entry.op === 'add') return [`+ ${entry.path}: ${show(entry.after, options)}`];
  if (entry.op === 'remove') return [`- ${entry.path}: ${show(entry.before, options)}`];
  if (markdown) return [`- ${entry.path}: ${show(entry.before, options)}`, `+ ${entry.path}: ${show(entry.after, options)}`];
  return [`~ ${entry.path}: ${show(entry.before, options)} → ${show(entry.after, options)}`];
}

function show(value: unknown, options: RenderOptions): string {
  const text = JSON.stringify(value) ?? 'undefined';
  if (options.full || typeof value !== 'string' || text.length <= LONG) return text;
  return `${text.slice(0, 50)}…${text.slice(-16)} (${value.length} characters; --full shows it whole)`;
}

function formatPath(path: (string | number)[]): string {
  return path
    .map((part, index) => {
      if (typeof part === 'number') return `[${part}]`;
      if (/^[A-Za-z_$][\w$-]*$/.test(part)) return index === 0 ? part : `.${part}`;
      return `[${JSON.stringify(part)}]`;
    })
    .join('');
}
