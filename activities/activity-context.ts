/**
 * The activity being run, if any. Activity code is also called outside an activity (unit tests, the CLI's own
 * checks), where `Context.current()` throws; every probe for the context goes through here.
 */
import { Context } from '@temporalio/activity';

export function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeats the current activity; a no-op outside one. */
export function heartbeat(details?: unknown): void {
  currentActivity()?.heartbeat(details);
}

/** The attempt number of the current activity (1 outside one). */
export function activityAttempt(): number {
  return currentActivity()?.info.attempt ?? 1;
}
