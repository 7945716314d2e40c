/** The audit heartbeat workflow's contract: what one run found (seed Edge Case 3). */
export interface HeartbeatResult {
  checkedAt: string;
  inBusinessHours: boolean;
  lastWebhookAuditAt?: string;
  quiet: boolean;
  polledSince?: string;
  changesFound: number;
  auditsStarted: number;
  alreadyAudited: number;
  /** False when the seeds' configuration contract is not served (a real org): only the Audit API is polled. */
  seedContract?: boolean;
  /** The Audit API poll of real Platform API objects (issue 11), when enabled. */
  auditTrail?: { since?: string; until?: string; changesFound: number; auditsStarted: number; alreadyAudited: number };
}
