/**
 * The Temporal SDK's process-wide Runtime for long-running processes (`tollgate dev`, `tollgate worker`): its
 * logger is our pino logger, so workflow `log` calls (replay-safe) and activity `log` calls come out as structured
 * JSON carrying `workflowId`, `runId`, `workflowType`, `activityType`, `taskQueue`; and it serves worker metrics for
 * Prometheus. Runtime.install must run before any connection or worker is created.
 */
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import type { Logger } from './logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly logger: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.logger[LEVELS[level] ?? 'info'](meta ?? {}, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/**
 * The logger the workflow bundle is built with: webpack's build output (one multi-line message, at info) becomes
 * debug lines, one line per log record, so that a normal start logs one "Workflow bundle created" line, not a page.
 * Errors stay errors (a bundle that fails to build must be read), one line each.
 */
export function workflowBundleLogger(logger: Logger): TemporalLogger {
  const bundle = logger.child({ component: 'workflow-bundle' });
  const each = (level: 'debug' | 'error', message: string, meta?: LogMetadata) => {
    for (const line of message.split(/\r?\n/)) {
      if (line.trim() !== '') bundle[level](meta ?? {}, line.trimEnd());
    }
  };
  const quiet = (message: string, meta?: LogMetadata) => each('debug', message, meta);
  return {
    log: (level, message, meta) => each(level === 'ERROR' ? 'error' : 'debug', message, meta),
    trace: quiet,
    debug: quiet,
    info: quiet,
    warn: quiet,
    error: (message, meta) => each('error', message, meta),
  };
}

export function installTemporalRuntime(options: { logger: Logger; metricsBindAddress: string }): void {
  Runtime.install({
    logger: new PinoTemporalLogger(options.logger.child({ component: 'temporal' })),
    // Our processes own their shutdown order (workers drain before connections and databases close).
    shutdownSignals: [],
    telemetryOptions: { metrics: { prometheus: { bindAddress: options.metricsBindAddress } } },
  });
}
