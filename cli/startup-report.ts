/**
 * The start-up report of the long-running commands (`tollgate dev|worker|receivers|emulator --json`): once the
 * process runs, one JSON document on stdout with its URLs and the settings that matter; its logs then go to stderr.
 */

/** The receivers' routes, as the start-up reports name them. */
export const RECEIVER_ROUTES = ['/webhooks/genesys-config-audit', '/v1/genesys/lifecycle', '/webhooks/github', '/healthz', '/readyz', '/metrics'];

/** One JSON document on stdout: the process's start-up report. */
export function printStartupReport(report: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ok: true, ...report })}\n`);
}
