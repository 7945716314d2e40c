/**
 * Test processes log only the Temporal runtime's warnings and errors (worker start/stop INFO lines would bury the
 * test output). Runs before each test file, before any worker or connection exists in that process.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({ logger: new DefaultLogger(process.env.TOLLGATE_TEST_TEMPORAL_LOG_LEVEL === 'INFO' ? 'INFO' : 'WARN') });
} catch {
  // Already installed in this jest worker process by an earlier test file.
}
