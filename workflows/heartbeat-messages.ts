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
}
