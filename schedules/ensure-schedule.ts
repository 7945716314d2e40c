/**
 * Create-or-update of one Schedule, idempotent: every worker calls it at start-up, the first creates the schedule
 * and the others (and later restarts) bring its spec, action and policies up to the current settings.
 */
import { ScheduleAlreadyRunning, type Client, type ScheduleOptions } from '@temporalio/client';

export async function ensureSchedule(client: Client, options: ScheduleOptions): Promise<string> {
  try {
    await client.schedule.create(options);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(options.scheduleId).update((previous) => ({
      ...previous,
      spec: options.spec,
      action: options.action,
      policies: { ...previous.policies, ...options.policies },
    }));
  }
  return options.scheduleId;
}
