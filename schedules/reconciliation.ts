/** The hourly lifecycle reconciliation schedule (issue 4). Returns the schedule ID, or undefined when none was created. */
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config';

export async function ensureReconciliationSchedule(_client: Client, _config: Config, _taskQueue: string): Promise<string | undefined> {
  return undefined;
}
