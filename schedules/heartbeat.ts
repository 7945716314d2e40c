/** The audit heartbeat schedule (issue 3). Returns the schedule ID, or undefined when none was created. */
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config';

export async function ensureHeartbeatSchedule(_client: Client, _config: Config, _taskQueue: string): Promise<string | undefined> {
  return undefined;
}
