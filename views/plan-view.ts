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
import type { Plan } from '../workflows/change-messages';
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
  /** Set when the live object's version is known to differ from the plan's base version. */
  moved?: { liveVersion: number };
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

export function planView(plan: Plan, live?: { version: number }): PlanView {
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
    ...(live && live.version !== plan.baseVersion ? { moved: { liveVersion: live.version } } : {}),
  };
}

export function summaryLine(summary: PlanSummary): string {
  if (summary.add + summary.change + summary.remove === 0) return 'Plan: no changes.';
  return `Plan: ${summary.change} to change, ${summary.add} to add, ${summary.remove} to remove.`;
}

export function renderPlan(view: PlanView, format: PlanFormat, options: RenderOptions = {}): string {
  if (format === 'json') return JSON.stringify(view, null, 2);
  const header = [
    `${summaryLine(view.summary)}  ${view.target} at version ${view.baseVersion}, payload sha256 ${view.payloadHash}`,
    ...(view.moved
      ? [`Warning: ${view.target} has moved to version ${view.moved.liveVersion} since this plan (base ${view.baseVersion}); approving it will be refused as stale: resubmit the change.`]
      : []),
    ...(view.unversioned ? [`Note: Genesys Cloud offers no optimistic lock for this object type; Tollgate re-reads and compares before it writes.`] : []),
  ];
  if (format === 'text') return [...header, ...view.entries.flatMap((entry) => diffLines(entry, options, false)).map((line) => `  ${line}`)].join('\n');

  // Markdown: `diff` highlighting colours `+` and `-` lines; a change is shown as its `-` and `+` pair.
  const lines = view.entries.flatMap((entry) => diffLines(entry, options, true));
  const block = ['```diff', ...lines, '```'];
  const fold = options.foldAfterLines ?? 25;
  const body =
    lines.length > fold ? ['<details>', `<summary>${lines.length} lines — show the plan</summary>`, '', ...block, '', '</details>'] : block;
  const warnings = header.slice(1).map((warning) => `> ${warning}`);
  const title = `**${summaryLine(view.summary)}** \`${view.target}\` at version ${view.baseVersion}, payload sha256 \`${view.payloadHash}\``;
  return [title, ...warnings, '', ...body].join('\n');
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
