/** `POST /webhooks/genesys-config-audit` (issue 3). */
import { Router } from 'express';
import type { ReceiverDeps } from './deps';

export function configAuditRoute(_deps: ReceiverDeps): Router {
  return Router();
}
