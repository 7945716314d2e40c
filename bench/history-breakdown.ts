/**
 * Where the time of one stretch of a workflow goes, read from its history (and the histories of the workflows it
 * talks to): every instant between two moments is attributed to exactly one hop, so the hops add up to the whole.
 *
 * Hops, by precedence at each instant (the first that holds wins):
 *   1. `workflow task: run` — a workflow task of the workflow is started and not yet completed (local activities,
 *      such as the audit ledger's appends, run inside it);
 *   2. `workflow task: dispatch wait` — a workflow task is scheduled and no worker has picked it up yet (with the
 *      dev server's default settings, mostly its transfer-queue poll interval);
 *   3. `<other>: workflow task: dispatch wait | run` — the workflow waits (on an activity's run or a message) while
 *      another workflow it talks to (the object's target workflow) has a task pending or running;
 *   4. `activity <type>: run` / `activity <type>: dispatch wait` — an activity is running / scheduled, not started;
 *   5. `waiting for a message` — nothing of ours is pending: a signal or an update on its way.
 *
 * Used by bench/change-latency.ts for approval → verified; kept apart so the next regression says where it is.
 */
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

interface Interval {
  from: number;
  to: number;
  label: string;
  rank: number;
}

function eventMs(event: HistoryEvent): number {
  const time = event.eventTime;
  if (!time) return 0;
  return Number(time.seconds ?? 0) * 1000 + (time.nanos ?? 0) / 1e6;
}

/** The intervals of one history: workflow tasks and activities, each with its dispatch wait and its run. */
function intervals(events: HistoryEvent[], prefix: string, foreign: boolean): Interval[] {
  const at = new Map<string, number>();
  const activityType = new Map<string, string>();
  const activityStarted = new Map<string, number>();
  const taskStarted = new Map<string, number>();
  const result: Interval[] = [];
  const push = (from: number | undefined, to: number, label: string, rank: number) => {
    if (from !== undefined && to >= from) result.push({ from, to, label: `${prefix}${label}`, rank });
  };
  const end = events.length > 0 ? eventMs(events[events.length - 1]) : 0;
  const pendingTasks = new Set<string>();
  const pendingActivities = new Set<string>();
  for (const event of events) {
    const id = String(event.eventId);
    const time = eventMs(event);
    at.set(id, time);
    if (event.workflowTaskScheduledEventAttributes) pendingTasks.add(id);
    const taskStartedOf = event.workflowTaskStartedEventAttributes?.scheduledEventId;
    if (taskStartedOf != null) {
      push(at.get(String(taskStartedOf)), time, 'workflow task: dispatch wait', foreign ? 3 : 2);
      taskStarted.set(String(taskStartedOf), time);
    }
    const taskEnded =
      event.workflowTaskCompletedEventAttributes?.scheduledEventId ??
      event.workflowTaskFailedEventAttributes?.scheduledEventId ??
      event.workflowTaskTimedOutEventAttributes?.scheduledEventId;
    if (taskEnded != null) {
      const key = String(taskEnded);
      pendingTasks.delete(key);
      if (taskStarted.has(key)) push(taskStarted.get(key), time, 'workflow task: run', foreign ? 3 : 1);
      else push(at.get(key), time, 'workflow task: dispatch wait', foreign ? 3 : 2);
    }
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      activityType.set(id, scheduled.activityType?.name ?? 'unknown');
      pendingActivities.add(id);
    }
    const startedOf = event.activityTaskStartedEventAttributes?.scheduledEventId;
    if (startedOf != null) activityStarted.set(String(startedOf), time);
    const activityEnded =
      event.activityTaskCompletedEventAttributes?.scheduledEventId ??
      event.activityTaskFailedEventAttributes?.scheduledEventId ??
      event.activityTaskTimedOutEventAttributes?.scheduledEventId ??
      event.activityTaskCanceledEventAttributes?.scheduledEventId;
    if (activityEnded != null) {
      const key = String(activityEnded);
      pendingActivities.delete(key);
      const type = activityType.get(key) ?? 'unknown';
      // The started event is written when the activity ends, stamped with its real start time.
      const started = activityStarted.get(key);
      push(at.get(key), started ?? time, `activity ${type}: dispatch wait`, 5);
      if (started !== undefined) push(started, time, `activity ${type}: run`, 4);
    }
  }
  // Still open at the end of the history (the history was read while it ran).
  for (const key of pendingTasks) {
    if (taskStarted.has(key)) push(taskStarted.get(key), end, 'workflow task: run', foreign ? 3 : 1);
    else push(at.get(key), end, 'workflow task: dispatch wait', foreign ? 3 : 2);
  }
  for (const key of pendingActivities) push(at.get(key), end, `activity ${activityType.get(key) ?? 'unknown'}: dispatch wait`, 5);
  return result;
}

/**
 * Milliseconds per hop between `fromMs` and `toMs` of the workflow whose history is `own`; `others` are the
 * histories of workflows it talks to, named by their prefix (e.g. `target: `).
 */
export function breakdown(own: HistoryEvent[], others: { prefix: string; events: HistoryEvent[] }[], fromMs: number, toMs: number): Record<string, number> {
  const all = [...intervals(own, '', false), ...others.flatMap((other) => intervals(other.events, other.prefix, true))];
  const points = new Set<number>([fromMs, toMs]);
  for (const interval of all) {
    if (interval.from > fromMs && interval.from < toMs) points.add(interval.from);
    if (interval.to > fromMs && interval.to < toMs) points.add(interval.to);
  }
  const sorted = [...points].sort((a, b) => a - b);
  const hops: Record<string, number> = {};
  for (let i = 0; i + 1 < sorted.length; i++) {
    const [a, b] = [sorted[i], sorted[i + 1]];
    const mid = (a + b) / 2;
    let best: Interval | undefined;
    for (const interval of all) {
      if (interval.from <= mid && mid < interval.to && (!best || interval.rank < best.rank)) best = interval;
    }
    const label = best?.label ?? 'waiting for a message';
    hops[label] = (hops[label] ?? 0) + (b - a);
  }
  return hops;
}

/** How many times each kind of hop happened in the stretch (workflow tasks and activities that began in it). */
export function hopCounts(own: HistoryEvent[], fromMs: number, toMs: number): { workflowTasks: number; activities: number } {
  let workflowTasks = 0;
  let activities = 0;
  for (const event of own) {
    const time = eventMs(event);
    if (time < fromMs || time > toMs) continue;
    if (event.workflowTaskScheduledEventAttributes) workflowTasks++;
    if (event.activityTaskScheduledEventAttributes) activities++;
  }
  return { workflowTasks, activities };
}

/** The medians of each hop over many stretches (a hop absent from a stretch counts as 0 there). */
export function medianHops(samples: Record<string, number>[]): { hop: string; medianMs: number; meanMs: number }[] {
  const labels = new Set(samples.flatMap((sample) => Object.keys(sample)));
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)];
  };
  return [...labels]
    .map((hop) => {
      const values = samples.map((sample) => sample[hop] ?? 0);
      return { hop, medianMs: Math.round(median(values) * 10) / 10, meanMs: Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10) / 10 };
    })
    .sort((a, b) => b.meanMs - a.meanMs);
}
